"""Writes the notebooks of this folder from code (review this file, not the .ipynb JSON).

Every notebook opens the lake through the project's one session function and starts with the same
setup cell (:func:`setup`): the CJK font for Chinese labels (a clear error when it is missing), the
lake, the session, and a clear error when the lake lacks a table the notebook reads. Cell ids are
derived from the notebook's name, so rebuilding an unchanged notebook changes nothing.
"""

from pathlib import Path
from textwrap import dedent

import nbformat as nbf

HERE = Path(__file__).parent
# 文泉驿微米黑 (Debian fonts-wqy-microhei): matplotlib's own fonts have no Chinese glyphs
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def md(text: str) -> nbf.NotebookNode:
    """A markdown cell (the text dedented)."""
    return nbf.v4.new_markdown_cell(dedent(text).strip())


def code(text: str) -> nbf.NotebookNode:
    """A code cell (the source dedented)."""
    return nbf.v4.new_code_cell(dedent(text).strip())


def setup(needs: list[str], imports: str = "") -> nbf.NotebookNode:
    """The first code cell of every notebook: imports (``imports``: one more import line), the
    CJK font, the lake and its session; stops with the missing table names when the lake lacks one
    of ``needs``."""
    return code(
        f"""
        import os
        from pathlib import Path

        import matplotlib.pyplot as plt
        import pandas as pd
        from matplotlib import font_manager
        from pyspark.sql import functions as F

        from transforms.lake.registry import discover
        from transforms.lake.session import get_spark
        {imports}
        CJK_FONT = Path({CJK_FONT!r})
        if not CJK_FONT.is_file():
            raise FileNotFoundError(
                f'{{CJK_FONT}} not found: the plots are labelled in Chinese and need this font '
                '(Debian: apt-get install fonts-wqy-microhei)'
            )
        font_manager.fontManager.addfont(str(CJK_FONT))
        plt.rcParams['font.family'] = 'sans-serif'
        plt.rcParams['font.sans-serif'] = [font_manager.FontProperties(fname=CJK_FONT).get_name()]
        plt.rcParams['axes.unicode_minus'] = False
        pd.set_option('display.width', 160)

        lake = Path(os.environ.get('LAKEHOUSE_LAKE') or Path.cwd().parent / 'lake').resolve()
        spark = get_spark(lake)
        tables = discover(lake)
        NEEDS = {needs!r}
        missing = sorted(set(NEEDS) - set(tables))
        if missing:
            raise RuntimeError(
                f'{{lake}} has no {{", ".join(missing)}}: this notebook needs a lake on which '
                '`lakehouse run` has published that domain'
            )
        print(lake)
        """
    )


def notebook(name: str, cells: list[nbf.NotebookNode]) -> nbf.NotebookNode:
    """The notebook of ``cells``, their ids numbered after the notebook's (stable rebuilds)."""
    for i, cell in enumerate(cells):
        cell.id = f"{name[:2]}-{i:02d}"
    nb = nbf.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


# ---- 01 ------------------------------------------------------------------------------------------


def explore_positions() -> list[nbf.NotebookNode]:
    return [
        md(
            """
            # 01 · 车辆定位数据探索 — exploring positions

            Opens the lake through the project's one session function (embedded Sail, or the remote
            Spark Connect endpoint in `LAKEHOUSE_SPARK_REMOTE`) and looks at what landed: table
            sizes, data qualification (数据合格) by rule, and one vehicle's day on the map.

            Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds).
            """
        ),
        setup(["silver.telematics__positions", "quarantine.telematics__positions"]),
        code("{t: spark.table(t).count() for t in tables}"),
        md(
            """
            ## 数据合格率 — records per rule that failed
            Every unqualified record is kept in `quarantine.telematics__positions` with the rules
            it broke.
            """
        ),
        code(
            """
            qualified = spark.table('silver.telematics__positions').count()
            by_rule = (spark.table('quarantine.telematics__positions')
                       .select(F.explode('failed_rules').alias('rule'))
                       .groupBy('rule').count().orderBy(F.desc('count')).toPandas())
            quarantined = spark.table('quarantine.telematics__positions').count()
            print(f'qualified {qualified:,}, quarantined {quarantined:,}, '
                  f'qualification rate {qualified / (qualified + quarantined):.2%}')
            ax = by_rule.plot.barh(x='rule', y='count', legend=False, figsize=(7, 3))
            ax.set_title('不合格记录（按规则）'); ax.set_xlabel('records'); plt.tight_layout()
            by_rule
            """
        ),
        md("## 县区日报 — online vehicles and qualified rate per county and day (gold)"),
        code(
            """
            county_days = (spark.table('gold.telematics__county_days')
                           .orderBy('day', 'county_code').toPandas())
            county_days
            """
        ),
        md("## One vehicle's day — the busiest vehicle-day, coloured by speed"),
        code(
            """
            busiest = (spark.table('gold.telematics__vehicle_days')
                       .orderBy(F.desc('qualified_points'), 'plate').first())
            track = (spark.table('silver.telematics__positions')
                     .where((F.col('plate') == busiest.plate)
                            & (F.col('plate_color') == busiest.plate_color)
                            & (F.col('day') == busiest.day))
                     .orderBy('gnss_time').select('gnss_time', 'lon', 'lat', 'speed').toPandas())
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
            sc = a1.scatter(track.lon, track.lat, c=track.speed, s=8, cmap='viridis')
            a1.plot(track.lon, track.lat, lw=0.4, color='grey')
            fig.colorbar(sc, ax=a1, label='km/h')
            a1.set_title(f'{busiest.plate} {busiest.day} 轨迹 ({busiest.km:.1f} km)')
            a2.plot(track.gnss_time, track.speed, lw=0.8)
            a2.set_title('速度 speed (km/h)'); fig.autofmt_xdate(); plt.tight_layout()
            len(track)
            """
        ),
    ]


# ---- 02 ------------------------------------------------------------------------------------------


def telematics_assessment() -> list[nbf.NotebookNode]:
    return [
        md(
            """
            # 02 · 动态监控考核 — which enterprises are slipping

            **Question.** Which transport enterprises' monthly assessment scores (企业考核得分:
            the 第三十三条 indicators with the national 联网联控 weights, pass ≥ 80) fell **three
            months running**, and how are the scored indicators spread across enterprises?

            Reads `gold.telematics__assessments` (the numbers of `lakehouse report telematics
            --level enterprise`). A *fall* is a score strictly below the previous period's; a
            missing period or a null score ends a run. The same count is shown for days, which
            warns earlier than months. A lake holding *n* months can show at most *n − 1* falls:
            the notebook says so rather than answering "none".

            Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds).
            """
        ),
        setup(["gold.telematics__assessments"], "from transforms.rules import load_rules\n"),
        code(
            """
            RUN = 3  # the question: scores that fell this many months running
            scoring = load_rules(domain='telematics')['scoring']
            PASS = scoring['pass_score']
            LABELS = {
                'network_entry_rate': '车辆入网率', 'online_rate': '车辆上线率',
                'track_completeness_rate': '轨迹完整率', 'data_qualification_rate': '数据合格率',
                'drift_vehicle_rate': '漂移车辆率', 'mean_overspeed_count': '平均超速次数',
                'mean_fatigue_minutes': '平均疲劳时长（分钟）', 'check_response_rate': '查岗响应率',
            }
            # the enterprise indicators that enter the score (rules: scoring.weights.enterprise)
            INDICATORS = {k: LABELS.get(k, k) for k in scoring['weights']['enterprise']}
            scores = (spark.table('gold.telematics__assessments')
                      .where((F.col('level') == 'enterprise')
                             & F.col('period_type').isin('month', 'day'))
                      .select('period_type', 'period', 'period_start', 'subject_id',
                              'subject_name', 'score', 'passed', *INDICATORS)
                      .orderBy('period_type', 'subject_id', 'period_start')
                      .toPandas())
            monthly = scores[scores.period_type == 'month']
            daily = scores[scores.period_type == 'day']
            months = sorted(monthly.period.unique())
            print(f'enterprises {scores.subject_id.nunique()}, months {len(months)} '
                  f'({months[0]} … {months[-1]}), days {daily.period.nunique()}')
            """
        ),
        md(
            """
            ## 连续下降 — falls running, per enterprise
            For each enterprise: its latest monthly score and how many months (and days) running
            its score fell, counted back from the lake's latest month (day).
            """
        ),
        code(
            """
            def falls_running(rows: pd.DataFrame, freq: str) -> pd.Series:
                \"\"\"Per enterprise: how many periods running its score fell, up to the lake's
                latest period of that grain (a missing period or a null score ends the run).\"\"\"
                latest = pd.Timestamp(rows.period_start.max()).to_period(freq)
                runs = {}
                for subject, g in rows.groupby('subject_id'):
                    score = dict(zip(pd.to_datetime(g.period_start).dt.to_period(freq), g.score))
                    run, p = 0, latest
                    while (pd.notna(score.get(p)) and pd.notna(score.get(p - 1))
                           and score[p] < score[p - 1]):
                        run, p = run + 1, p - 1
                    runs[subject] = run
                return pd.Series(runs)

            latest = monthly.groupby('subject_id').tail(1).set_index('subject_id')
            falls = pd.DataFrame({
                'enterprise': latest.subject_name, 'month': latest.period, 'score': latest.score,
                'month_falls': falls_running(monthly, 'M'), 'day_falls': falls_running(daily, 'D'),
            }).sort_values(['month_falls', 'day_falls', 'score'], ascending=[False, False, True])
            for subject, r in falls.iterrows():
                print(f'{subject} {r.enterprise}: {r.month} score {r.score:.2f}, '
                      f'fell {r.month_falls} month(s) and {r.day_falls} day(s) running')
            slipping = falls[falls.month_falls >= RUN]
            print(f'fell {RUN} months running up to {months[-1]}: '
                  + (', '.join(slipping.enterprise) if len(slipping) else
                     f'none of {len(falls)} (the lake holds {len(months)} month(s): '
                     f'at most {len(months) - 1} fall(s) can be seen)'))
            """
        ),
        md(
            """
            **Reading the plot.** One line per enterprise; the red dashed line is the pass mark.
            A thick line is an enterprise whose score fell `RUN` periods running; the legend gives
            each one's falls running (months / days).
            """
        ),
        code(
            """
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
            for ax, rows, col, title in ((a1, monthly, 'month_falls', '月度得分 monthly score'),
                                         (a2, daily, 'day_falls', '日得分 daily score')):
                for subject, g in rows.groupby('subject_id'):
                    run = falls.loc[subject, col]
                    ax.plot(g.period, g.score, marker='o',
                            lw=3 if run >= RUN else 1,
                            label=f'{g.subject_name.iloc[0]}（连降 {falls.loc[subject, "month_falls"]}'
                                  f' 月 / {falls.loc[subject, "day_falls"]} 日）')
                ax.axhline(PASS, color='red', ls='--', lw=0.8)
                ax.set_title(title)
            a1.set_ylabel('得分 score')
            a2.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1))
            plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 指标分布 — how the scored indicators are spread
            One histogram per scored indicator over every enterprise-month; the table gives the
            median per month. Rates are fractions; the two relative indicators (overspeed count,
            fatigue minutes per online vehicle) are scored against the mean of all enterprises.
            """
        ),
        code(
            """
            fig, axes = plt.subplots(2, 4, figsize=(13, 5.5))
            for ax, (col, label) in zip(axes.flat, INDICATORS.items()):
                ax.hist(monthly[col].dropna().astype(float), bins=10, color='steelblue')
                ax.set_title(label, fontsize=10)
            fig.suptitle('企业月度指标分布 (enterprise-months)')
            plt.tight_layout(); plt.show()
            monthly.groupby('period')[list(INDICATORS)].median().T.rename(index=INDICATORS)
            """
        ),
    ]


# ---- 03 ------------------------------------------------------------------------------------------


def freight_monitoring() -> list[nbf.NotebookNode]:
    return [
        md(
            """
            # 03 · 网络货运运行监测 — anomaly rates and daily volume

            **Questions.** Which anomaly types (异常信息) are most frequent, month by month? Do
            small operators (网络货运平台) produce more anomalies per waybill than large ones? How
            many waybills and tonnes move per day?

            Reads the 运行监测 marts `gold.freight__operator_months` / `gold.freight__operator_days`
            (the numbers of `lakehouse report freight`; operators of the senders feed only). Rate
            of a type = documents with that anomaly / waybills (access: / envelopes), the rules'
            definition. Operator size = its integrated capacity (整合运力: distinct vehicles on its
            waybills) in the month.

            Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds).
            """
        ),
        setup(
            ["gold.freight__operator_months", "gold.freight__operator_days"],
            "from transforms.rules import load_rules\n",
        ),
        code(
            """
            TYPES = list(load_rules(domain='freight')['scoring']['weights'])  # the six types
            LABELS = {'access': '单据接入', 'qualification': '资质', 'vehicle_network': '车辆入网',
                      'trajectory': '运输轨迹', 'match': '运单资金匹配', 'duplicate': '运单重复'}
            SIZES = [0, 10, 30, float('inf')]  # distinct vehicles in the month
            SIZE_LABELS = ['小 (<10 辆)', '中 (10–29 辆)', '大 (≥30 辆)']
            COUNTS = ['envelopes', 'waybills', *[f'anomalies_{t}' for t in TYPES]]

            def rates(sums: pd.DataFrame) -> pd.DataFrame:
                \"\"\"Anomaly rate per type of each row of summed counts: anomalies / waybills
                (access: envelopes); null without a waybill.\"\"\"
                return pd.DataFrame({
                    LABELS[t]: sums[f'anomalies_{t}']
                    / sums['envelopes' if t == 'access' else 'waybills'].replace(0, float('nan'))
                    for t in TYPES
                })

            def describe(label: str, s: pd.Series) -> None:
                share = rates(s.to_frame().T).iloc[0]
                print(f'{label}: {s.waybills} waybills, {s.envelopes} envelopes; ' + ', '.join(
                    f'{t} {s[f"anomalies_{t}"]} ({share[LABELS[t]]:.2%})' for t in TYPES))

            months = (spark.table('gold.freight__operator_months')
                      .select('operator_id', 'operator_name', 'period', 'envelopes', 'waybills',
                              'vehicles', 'tonnes', *[f'anomalies_{t}' for t in TYPES], 'score')
                      .orderBy('period', 'operator_id').toPandas())
            by_month = months.groupby('period')[COUNTS].sum()
            for period, s in by_month.iterrows():
                describe(period, s)
            """
        ),
        md(
            """
            **Reading the plot.** One group of bars per month, one bar per anomaly type: the share
            of the month's waybills (envelopes for 单据接入) carrying that anomaly. A waybill can
            carry several types, so the bars do not add up to the share of anomalous waybills.
            """
        ),
        code(
            """
            ax = rates(by_month).plot.bar(figsize=(9, 4), rot=0)
            ax.set_title('各类异常率（按月）anomaly rate by type'); ax.set_ylabel('异常率')
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f'{v:.0%}'))
            plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 按平台规模 — by operator size
            Each operator-month falls in a size class by its distinct vehicles; the rates pool the
            class's anomalies over its waybills (a large operator weighs more than a small one).
            """
        ),
        code(
            """
            months['size'] = pd.cut(months.vehicles, SIZES, right=False, labels=SIZE_LABELS)
            sizes = months.groupby('size', observed=True)
            by_size = sizes[COUNTS].sum()
            for (size, s), n in zip(by_size.iterrows(), sizes.size()):
                describe(f'{size}, {n} operator-month(s)', s)
            ax = rates(by_size).T.plot.bar(figsize=(9, 4), rot=0)
            ax.set_title('各类异常率（按平台规模）anomaly rate by operator size')
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f'{v:.0%}'))
            ax.legend(title='规模 (整合车辆数)'); plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 每日运量 — waybills and tonnes per day
            Bars: completed waybills per day (all operators); line: freight volume in tonnes
            (Σ goods gross weight). Days with envelopes but no waybill show as empty bars.
            """
        ),
        code(
            """
            daily = (spark.table('gold.freight__operator_days')
                     .groupBy('day')
                     .agg(F.sum('waybills').alias('waybills'), F.sum('tonnes').alias('tonnes'),
                          F.sum('envelopes').alias('envelopes'))
                     .orderBy('day').toPandas())
            for r in daily.itertuples():
                print(f'{r.day}: {r.waybills} waybills, {r.tonnes:.3f} t, {r.envelopes} envelopes')
            fig, ax = plt.subplots(figsize=(9, 4))
            x = pd.to_datetime(daily.day)
            ax.bar(x, daily.waybills, color='lightsteelblue', label='运单 waybills')
            ax.set_ylabel('运单数')
            ax2 = ax.twinx()
            ax2.plot(x, daily.tonnes.astype(float), color='darkorange', marker='o', label='货运量 t')
            ax2.set_ylabel('货运量（吨）'); ax2.set_ylim(bottom=0)
            ax.set_title('每日运单与货运量 waybills and tonnes per day')
            (h1, l1), (h2, l2) = ax.get_legend_handles_labels(), ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, loc='lower left')
            fig.autofmt_xdate(); plt.tight_layout(); plt.show()
            """
        ),
    ]


# ---- 04 ------------------------------------------------------------------------------------------


def ridehailing_quality() -> list[nbf.NotebookNode]:
    return [
        md(
            """
            # 04 · 网约车数据质量 — timeliness against volume

            **Questions.** Does a platform company's timeliness (及时性) suffer when it carries
            more orders? How did the four rates of the monthly evaluation — completeness 完整性,
            normativity 规范性, timeliness 及时性, truthfulness 真实性 — move month by month, and
            which interfaces were late?

            Reads `gold.ridehailing__company_months` (the numbers of `lakehouse report ridehailing`;
            companies that transmitted), the order lifecycle `silver.ridehailing__orders` (orders
            counted in the month they were created) and `gold.ridehailing__defect_counts`.

            Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds).
            """
        ),
        setup(
            [
                "gold.ridehailing__company_months",
                "silver.ridehailing__orders",
                "gold.ridehailing__defect_counts",
            ]
        ),
        code(
            """
            RATES = {'completeness_rate': '完整性', 'normativity_rate': '规范性',
                     'timeliness_rate': '及时性', 'truthfulness_rate': '真实性'}
            quality = (spark.table('gold.ridehailing__company_months').where(F.col('transmitted'))
                       .select('company_id', 'company_name', 'period', 'records', *RATES, 'score')
                       .toPandas())
            orders = (spark.table('silver.ridehailing__orders')
                      .groupBy('company_id', F.col('period_month').alias('period'))
                      .agg(F.count('*').alias('orders')).toPandas())
            both = (quality.merge(orders, on=['company_id', 'period'], how='left')
                    .fillna({'orders': 0}).astype({'orders': int})
                    .sort_values(['period', 'company_id']))
            for r in both.itertuples():
                print(f'{r.company_id} {r.company_name} {r.period}: {r.orders} orders, '
                      f'{r.records} records, timeliness {r.timeliness_rate:.6f}, score {r.score:.2f}')
            pairs = both[['orders', 'timeliness_rate']].dropna()
            if len(pairs) >= 3:
                print(f'rank correlation orders ~ timeliness over {len(pairs)} company-months: '
                      f'{pairs.orders.corr(pairs.timeliness_rate, method="spearman"):+.2f}')
            """
        ),
        md(
            """
            **Reading the plot.** Each point is one company in one month: orders created (x) and
            the share of its records received in time (y). A company drifting down and to the
            right loses timeliness as its volume grows.
            """
        ),
        code(
            """
            fig, ax = plt.subplots(figsize=(8, 4.5))
            for company, g in both.groupby('company_id'):
                ax.plot(g.orders, g.timeliness_rate, marker='o', label=g.company_name.iloc[0])
                for r in g.itertuples():
                    ax.annotate(r.period, (r.orders, r.timeliness_rate), fontsize=7,
                                xytext=(3, 3), textcoords='offset points')
            ax.set_xlabel('订单数 orders created'); ax.set_ylabel('及时性 timeliness rate')
            ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f'{v:.1%}'))
            ax.set_title('及时性与订单量 timeliness vs order volume')
            ax.legend(fontsize=8); plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 四项指标逐月 — the four rates over months
            One panel per dimension, one line per company.
            """
        ),
        code(
            """
            periods = sorted(both.period.unique())
            fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex=True)
            for ax, (col, label) in zip(axes.flat, RATES.items()):
                for company, g in both.groupby('company_id'):
                    ax.plot(g.period.map(periods.index), g[col], marker='o',
                            label=g.company_name.iloc[0])
                ax.set_title(f'{label} {col}')
                ax.set_xticks(range(len(periods)), periods)
                ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f'{v:.2%}'))
            axes[0, 1].legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1))
            plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 迟报 — late records by interface
            Records that failed timeliness, by interface and month (a record is late when it
            arrived after its group's limit and no planned outage excuses it).
            """
        ),
        code(
            """
            late = (spark.table('gold.ridehailing__defect_counts')
                    .where(F.col('dimension') == 'timeliness')
                    .groupBy('period', 'interface').agg(F.sum('records').alias('records'))
                    .toPandas()
                    .pivot(index='interface', columns='period', values='records').fillna(0))
            for period in late.columns:
                print(f'late records {period}: {int(late[period].sum())}')
            ax = late.sort_values(late.columns[-1]).plot.barh(figsize=(9, 4.5))
            ax.set_title('迟报记录（按接口）late records by interface'); ax.set_xlabel('records')
            plt.tight_layout(); plt.show()
            """
        ),
    ]


# ---- 05 ------------------------------------------------------------------------------------------


def licence_expiry() -> list[nbf.NotebookNode]:
    return [
        md(
            """
            # 05 · 电子证照 — expiring licences and failed checks

            **Questions.** How many licences of each type expire in the next 30 and 90 days —
            and how many still read 有效 although their validity has already ended? Which
            qualification checks of the other domains failed against the licence data, and how
            is the licence feed itself doing (signature failures)?

            Reads `gold.licences__licences` (the current verified version of every licence,
            masked), `gold.licences__operation_quality` (`lakehouse report licences`), and where
            those domains are on the lake the freight 资质异常 (`gold.freight__anomalies`) and the
            ride-hailing licence rules (`silver.ridehailing__defects`). *Today* is the day the
            lake's licence feed stands at — the latest `received_at` — so the notebook gives the
            same answer whenever it is run; set `as_of` to another day to look from there.

            Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds).
            """
        ),
        setup(
            [
                "gold.licences__licences",
                "silver.licences__licences",
                "gold.licences__operation_quality",
            ],
            "import datetime as dt\n",
        ),
        code(
            """
            TYPES = {'qualification': '从业资格证', 'operating_permit': '经营许可证',
                     'vehicle_transport': '道路运输证'}
            BUCKETS = ['已失效仍为有效', '30 天内', '31–90 天', '91–365 天', '一年以上']
            as_of = (spark.table('silver.licences__licences')
                     .agg(F.max(F.to_date('received_at'))).first()[0])
            left = F.datediff(F.col('valid_to'), F.lit(as_of.isoformat()).cast('date'))
            bucket = (F.when(left < 0, BUCKETS[0]).when(left <= 30, BUCKETS[1])
                      .when(left <= 90, BUCKETS[2]).when(left <= 365, BUCKETS[3])
                      .otherwise(BUCKETS[4]))
            licences = spark.table('gold.licences__licences')
            expiry = (licences.where(F.col('status') == 'valid')
                      .groupBy('licence_type', bucket.alias('bucket')).count().toPandas()
                      .pivot(index='licence_type', columns='bucket', values='count')
                      .reindex(index=list(TYPES), columns=BUCKETS).fillna(0).astype(int))
            print(f'as of {as_of} (the latest licence received)')
            for kind, r in expiry.iterrows():
                print(f'{TYPES[kind]} {kind}: {r.sum()} valid; lapsed {r[BUCKETS[0]]}, '
                      f'expiring within 30 days {r[BUCKETS[1]]}, '
                      f'within 90 days {r[BUCKETS[1]] + r[BUCKETS[2]]}, '
                      f'within a year {r[BUCKETS[1:4]].sum()}')
            statuses = (licences.groupBy('licence_type', 'status').count().toPandas()
                        .pivot(index='licence_type', columns='status', values='count')
                        .fillna(0).astype(int))
            statuses
            """
        ),
        md(
            """
            **Reading the plot.** Left: status-有效 licences per type by the time left until
            `valid_to` (已失效仍为有效: validity ended but no new version says so — a register to
            correct). Right: how many expire within *N* days, *N* up to three years; the dotted
            lines mark 30 and 90 days.
            """
        ),
        code(
            """
            valid = (licences.where(F.col('status') == 'valid')
                     .select('licence_type', left.alias('days_left')).toPandas())
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.5))
            expiry.rename(index=TYPES).T.plot.bar(ax=a1, rot=0)
            a1.set_title(f'有效证照剩余有效期（{as_of}）'); a1.set_ylabel('证照数')
            a1.set_xlabel('剩余有效期 time left'); a1.legend(title='')
            horizon = range(0, 3 * 365 + 1, 5)
            for kind, label in TYPES.items():
                left_days = valid.loc[valid.licence_type == kind, 'days_left']
                a2.step(horizon, [((left_days >= 0) & (left_days <= n)).sum() for n in horizon],
                        where='post', label=label)
            for n in (30, 90):
                a2.axvline(n, color='grey', ls=':', lw=1)
            a2.set_xlabel('天数 N'); a2.set_title('N 天内到期（累计）expiring within N days')
            a2.legend(); plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 资质核查不通过 — failed qualification checks
            网络货运: waybills whose operator permit, vehicle 道路运输证 or driver 从业资格证 was
            missing, expired or revoked at despatch (资质异常, appeals that withdrew one excluded).
            网约车: records whose driver or vehicle licence was not valid at the event.
            """
        ),
        code(
            """
            parts = {}
            if 'gold.freight__anomalies' in tables:
                parts['网络货运 资质异常'] = (
                    spark.table('gold.freight__anomalies')
                    .where((F.col('anomaly_type') == 'qualification') & F.col('is_counted'))
                    .groupBy('rule').count().toPandas().set_index('rule')['count'])
            if 'silver.ridehailing__defects' in tables:
                parts['网约车 证照核验'] = (
                    spark.table('silver.ridehailing__defects')
                    .where(F.col('rule').rlike('^(driver|vehicle)_licence:'))
                    .groupBy('rule').count().toPandas().set_index('rule')['count'])
            for name, counts in parts.items():
                print(f'{name}: {counts.sum()} (' + ', '.join(
                    f'{rule} {n}' for rule, n in counts.sort_index().items()) + ')')
            if parts:
                fig, axes = plt.subplots(1, len(parts), figsize=(13, 4), squeeze=False)
                for ax, (name, counts) in zip(axes[0], parts.items()):
                    counts.sort_values().plot.barh(ax=ax, color='indianred')
                    ax.set_title(name); ax.set_xlabel('records'); ax.set_ylabel('')
                plt.tight_layout(); plt.show()
            else:
                print('neither freight nor ride-hailing is on this lake')
            """
        ),
        md(
            """
            ## 运行质量 — the licence feed per month
            Bars: versions issued, changed and revoked per month (issued_at); line: the share of
            records whose signature failed (伪造/篡改 suspects, kept in quarantine).
            """
        ),
        code(
            """
            quality = (spark.table('gold.licences__operation_quality')
                       .groupBy('period')
                       .agg(*[F.sum(c).alias(c) for c in
                              ('issued', 'changed', 'revoked', 'records', 'signature_failures')])
                       .orderBy('period').toPandas())
            print(f'signature failures: {quality.signature_failures.sum()} of '
                  f'{quality.records.sum()} records')
            fig, ax = plt.subplots(figsize=(12, 4))
            quality.set_index('period')[['issued', 'changed', 'revoked']].plot.bar(
                ax=ax, stacked=True, rot=90)
            ax.set_ylabel('版本数')
            ax2 = ax.twinx()
            ax2.plot(range(len(quality)), quality.signature_failures / quality.records,
                     color='red', marker='.', label='验签失败率')
            ax2.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f'{v:.0%}'))
            (h1, l1), (h2, l2) = ax.get_legend_handles_labels(), ax2.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, loc='upper left')
            ax.set_title('证照签发与验签失败 issued / changed / revoked and signature failures')
            plt.tight_layout(); plt.show()
            """
        ),
    ]


# ---- 06 ------------------------------------------------------------------------------------------


def cross_domain() -> list[nbf.NotebookNode]:
    return [
        md(
            """
            # 06 · 跨领域 — one vehicle, one enterprise, several domains

            **Questions.** Which vehicles and enterprises appear in several domains? Which
            vehicles have both freight anomalies and telematics violations? And which vehicles
            were on the road — sending positions, carrying a freight waybill, serving a
            ride-hailing order — while their 道路运输证 was not valid?

            How the domains name a subject (as `lakehouse profile` does): a vehicle by its plate
            (ride-hailing records carry no plate colour, so plates alone are compared), in the
            telematics register, on freight waybills, on ride-hailing vehicle records and orders,
            and as the holder `<plate>-<colour>` of a vehicle licence; an enterprise by its USCC —
            the telematics enterprise id, a freight sender's `uscc`, a ride-hailing company's
            `Identifier`, an organisation licence's holder. A licence is judged on the version in
            force at the moment of the activity (`version_valid_from ≤ t < version_valid_to`):
            valid when its status is valid and `valid_from ≤ day ≤ valid_to`.

            Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds).
            """
        ),
        setup(
            [
                "silver.licences__licences",
                "silver.telematics__vehicles",
                "silver.telematics__enterprises",
                "gold.telematics__vehicle_days",
                "gold.telematics__violations",
                "silver.freight__senders",
                "silver.freight__waybills",
                "silver.freight__waybill_vehicles",
                "gold.freight__anomalies",
                "silver.ridehailing__static_versions",
                "silver.ridehailing__orders",
            ]
        ),
        code(
            """
            DOMAINS = ['动态监控', '网络货运', '网约车', '电子证照']
            T = spark.table
            licences = T('silver.licences__licences')
            rh_static = T('silver.ridehailing__static_versions')
            vehicles = {
                '动态监控': T('silver.telematics__vehicles').select('plate'),
                '网络货运': T('silver.freight__waybill_vehicles').select(
                    F.col('vehicle_number').alias('plate')),
                '网约车': rh_static.where(F.col('interface') == 'baseInfoVehicle')
                    .select(F.col('vehicle_no').alias('plate'))
                    .unionByName(T('silver.ridehailing__orders')
                                 .select(F.col('vehicle_no').alias('plate'))),
                '电子证照': licences.where(F.col('holder_type') == 'vehicle')
                    .select(F.split('holder_key_masked', '-').getItem(0).alias('plate')),
            }
            enterprises = {
                '动态监控': T('silver.telematics__enterprises').select(F.col('enterprise_id').alias('uscc')),
                '网络货运': T('silver.freight__senders').select('uscc'),
                '网约车': rh_static.where(F.col('interface') == 'baseInfoCompany')
                    .select(F.get_json_object('payload', '$.Identifier').alias('uscc')),
                '电子证照': licences.where(F.col('holder_type') == 'organisation')
                    .select(F.col('holder_key_masked').alias('uscc')),
            }

            def combinations(frames: dict, key: str) -> pd.Series:
                \"\"\"Subjects per combination of domains they appear in (``key`` their id).\"\"\"
                seen = None
                for domain, frame in frames.items():
                    part = (frame.where(F.col(key).isNotNull() & (F.trim(key) != ''))
                            .select(key).distinct().withColumn('domain', F.lit(domain)))
                    seen = part if seen is None else seen.unionByName(part)
                rows = seen.toPandas()
                combo = rows.groupby(key).domain.agg(
                    lambda d: '+'.join(x for x in DOMAINS if x in set(d)))
                return combo.value_counts().sort_index()

            by_vehicle = combinations(vehicles, 'plate')
            by_enterprise = combinations(enterprises, 'uscc')
            for name, counts in (('vehicles', by_vehicle), ('enterprises', by_enterprise)):
                several = counts[counts.index.str.contains('+', regex=False)].sum()
                print(f'{name}: {counts.sum()}, in several domains {several}')
                for combo, n in counts.items():
                    print(f'  {name} in {combo}: {n}')
            """
        ),
        md(
            """
            **Reading the plot.** One bar per combination of domains a subject appears in; the
            bars to look at are those with a `+`: the subjects a regulator can follow across
            domains.
            """
        ),
        code(
            """
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.5))
            for ax, counts, title in ((a1, by_vehicle, '车辆 vehicles'),
                                      (a2, by_enterprise, '企业 enterprises')):
                counts.sort_values().plot.barh(ax=ax, color='teal')
                ax.set_title(f'{title}: 出现的领域组合'); ax.set_xlabel('数量'); ax.set_ylabel('')
            plt.tight_layout(); plt.show()
            """
        ),
        md(
            """
            ## 货运异常且有动态监控违规 — vehicles with both
            Vehicles on a waybill that has a freight anomaly (withdrawn ones excluded), and
            vehicles with a telematics violation event (超速, 疲劳, 凌晨2–5时, 偏离线路, 超区域).
            """
        ),
        code(
            """
            waybills = T('silver.freight__waybills').select(
                'message_reference_number', 'document_index',
                F.concat_ws('/', 'shipping_note_number', 'serial_number').alias('document_key'))
            anomalous = (T('gold.freight__anomalies')
                         .where((F.col('document_kind') == 'waybill') & F.col('is_counted'))
                         .select('document_key', 'anomaly_type')
                         .join(waybills, 'document_key')
                         .join(T('silver.freight__waybill_vehicles'),
                               ['message_reference_number', 'document_index'])
                         .groupBy(F.col('vehicle_number').alias('plate'))
                         .agg(F.collect_set('anomaly_type').alias('anomaly_types')))
            violating = (T('gold.telematics__violations')
                         .where(F.col('kind').isin('overspeed', 'fatigue', 'bus_night_running',
                                                   'off_route', 'out_of_region'))
                         .groupBy('plate').agg(F.collect_set('kind').alias('violations')))
            both = anomalous.join(violating, 'plate').orderBy('plate').toPandas()
            print(f'vehicles with telematics violations: {violating.count()}; '
                  f'on waybills with freight anomalies: {anomalous.count()}; both: {len(both)}')
            both
            """
        ),
        md(
            """
            ## 无有效道路运输证上路 — active without a valid licence
            Every activity — a telematics vehicle-day (its first point), a freight waybill's
            loading time, a ride-hailing order's creation — is checked against the vehicle's
            道路运输证 versions in force at that moment. A vehicle counts once per domain.

            **Reading the plot.** Per domain, the vehicles always validly licensed, those active
            at least once while their licence was not valid (expired, revoked, suspended …) and
            those with no licence on record at the time.
            """
        ),
        code(
            """
            activity = (
                T('gold.telematics__vehicle_days')
                .select(F.lit('动态监控').alias('domain'), 'plate', F.col('first_point_at').alias('at'))
                .unionByName(T('silver.freight__waybill_vehicles').select(
                    F.lit('网络货运').alias('domain'), F.col('vehicle_number').alias('plate'),
                    F.col('loading_time').alias('at')))
                .unionByName(T('silver.ridehailing__orders').select(
                    F.lit('网约车').alias('domain'), F.col('vehicle_no').alias('plate'),
                    F.col('created_at').alias('at')))
                .where(F.col('plate').isNotNull() & F.col('at').isNotNull())
                .distinct()
            )
            versions = (licences.where(F.col('licence_type') == 'vehicle_transport')
                        .select(F.split('holder_key_masked', '-').getItem(0).alias('l_plate'),
                                'licence_no', 'status', 'valid_from', 'valid_to',
                                'version_valid_from', 'version_valid_to'))
            in_force = ((F.col('plate') == F.col('l_plate'))
                        & (F.col('version_valid_from') <= F.col('at'))
                        & (F.col('version_valid_to').isNull()
                           | (F.col('at') < F.col('version_valid_to'))))
            day = F.to_date('at')
            judged = (activity.join(versions, in_force, 'left')
                      .groupBy('domain', 'plate', 'at')
                      .agg(F.count('licence_no').alias('licences'),
                           F.max(F.when((F.col('status') == 'valid') & (F.col('valid_from') <= day)
                                        & (day <= F.col('valid_to')), 1).otherwise(0))
                           .alias('valid')))
            per_vehicle = (judged
                           .withColumn('state', F.when(F.col('licences') == 0, 'none')
                                       .when(F.col('valid') == 1, 'valid').otherwise('invalid'))
                           .groupBy('domain', 'plate')
                           .agg(F.max(F.when(F.col('state') == 'none', 1).otherwise(0)).alias('none'),
                                F.max(F.when(F.col('state') == 'invalid', 1).otherwise(0))
                                .alias('invalid'))
                           .toPandas())
            per_vehicle['outcome'] = per_vehicle.apply(
                lambda r: '无证记录' if r.none else ('证照无效' if r.invalid else '有效'), axis=1)
            summary = (per_vehicle.groupby(['domain', 'outcome']).size().unstack(fill_value=0)
                       .reindex(index=DOMAINS[:3], columns=['有效', '证照无效', '无证记录'])
                       .fillna(0).astype(int))
            for domain, r in summary.iterrows():
                bad = sorted(per_vehicle.loc[(per_vehicle.domain == domain)
                                             & (per_vehicle.outcome == '证照无效'), 'plate'])
                print(f'{domain}: {r.sum()} vehicles active, {r["证照无效"]} at some time without '
                      f'a valid 道路运输证, {r["无证记录"]} with none on record'
                      + (f' ({", ".join(bad[:10])}{" …" if len(bad) > 10 else ""})' if bad else ''))
            ax = summary.plot.bar(stacked=True, rot=0, figsize=(8, 4),
                                  color=['seagreen', 'indianred', 'lightgrey'])
            ax.set_title('上路车辆的道路运输证 vehicles active, by licence at the time')
            ax.set_ylabel('车辆数'); ax.set_xlabel(''); ax.legend(title='')
            plt.tight_layout(); plt.show()
            """
        ),
    ]


NOTEBOOKS = {
    "01_explore_positions": explore_positions,
    "02_telematics_assessment": telematics_assessment,
    "03_freight_monitoring": freight_monitoring,
    "04_ridehailing_quality": ridehailing_quality,
    "05_licence_expiry": licence_expiry,
    "06_cross_domain": cross_domain,
}


if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        nbf.write(notebook(name, cells()), HERE / f"{name}.ipynb")
