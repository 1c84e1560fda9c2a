"""Display masks: the licences.md examples, lengths kept, short values hidden whole, None kept."""

import pytest

from transforms.crypto.masking import mask_account, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        (mask_id_number, "350102199001011234", "350102********1234"),
        (mask_id_number, "35010219900101123X", "350102********123X"),
        (mask_id_number, "350102900101123", "350102********1123"),  # 15-digit ID: still 6+8+4
        (mask_id_number, "3501021234", "**********"),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "059187654321", "059*****4321"),
        (mask_phone, "1234567", "*******"),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_name, "张", "*"),
        (mask_account, "6222021234567890123", "***************0123"),
        (mask_account, "1234", "****"),
    ],
)
def test_masks(mask, value, masked):
    assert mask(value) == masked


@pytest.mark.parametrize("mask", [mask_id_number, mask_phone, mask_name, mask_account])
def test_none_and_empty(mask):
    assert mask(None) is None
    assert mask("") == ""
