"""Writes the notebooks of this folder from code (review this file, not the .ipynb JSON)."""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent


def explore_positions() -> nbf.NotebookNode:
    md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
    cells = [
        md(
            "# 01 · 车辆定位数据探索 — exploring positions\n\n"
            "Opens the lake through the project's one session function (embedded Sail, or the remote "
            "Spark Connect endpoint in `LAKEHOUSE_SPARK_REMOTE`) and looks at what landed: table sizes, "
            "data qualification (数据合格) by rule, and one vehicle's day on the map.\n\n"
            "Lake: `$LAKEHOUSE_LAKE`, else `../lake` (what `make demo` builds)."
        ),
        code(
            "import os\nfrom pathlib import Path\n\n"
            "import matplotlib\nimport matplotlib.pyplot as plt\n"
            "from pyspark.sql import functions as F\n\n"
            "from transforms.lake.registry import discover\n"
            "from transforms.lake.session import get_spark\n\n"
            "plt.rcParams['font.sans-serif'] = ['WenQuanYi Micro Hei', 'DejaVu Sans']\n"
            "plt.rcParams['axes.unicode_minus'] = False\n"
            "lake = Path(os.environ.get('LAKEHOUSE_LAKE') or Path.cwd().parent / 'lake').resolve()\n"
            "spark = get_spark(lake)\n"
            "tables = discover(lake)\n"
            "print(lake)\n"
            "{t: spark.table(t).count() for t in tables}"
        ),
        md(
            "## 数据合格率 — records per rule that failed\n"
            "Every unqualified record is kept in `quarantine.telematics__positions` with the rules it broke."
        ),
        code(
            "qualified = spark.table('silver.telematics__positions').count()\n"
            "by_rule = (spark.table('quarantine.telematics__positions')\n"
            "           .select(F.explode('failed_rules').alias('rule'))\n"
            "           .groupBy('rule').count().orderBy(F.desc('count')).toPandas())\n"
            "quarantined = spark.table('quarantine.telematics__positions').count()\n"
            "print(f'qualified {qualified:,}, quarantined {quarantined:,}, '\n"
            "      f'qualification rate {qualified / (qualified + quarantined):.2%}')\n"
            "ax = by_rule.plot.barh(x='rule', y='count', legend=False, figsize=(7, 3))\n"
            "ax.set_title('不合格记录（按规则）'); ax.set_xlabel('records'); plt.tight_layout()\n"
            "by_rule"
        ),
        md("## 县区日报 — online vehicles and qualified rate per county and day (gold)"),
        code(
            "county_days = spark.table('gold.telematics__county_days').orderBy('day', 'county_code')"
            ".toPandas()\ncounty_days"
        ),
        md("## One vehicle's day — the busiest vehicle-day, coloured by speed"),
        code(
            "busiest = (spark.table('gold.telematics__vehicle_days')\n"
            "           .orderBy(F.desc('qualified_points'), 'plate').first())\n"
            "track = (spark.table('silver.telematics__positions')\n"
            "         .where((F.col('plate') == busiest.plate)\n"
            "                & (F.col('plate_color') == busiest.plate_color)\n"
            "                & (F.col('day') == busiest.day))\n"
            "         .orderBy('gnss_time').select('gnss_time', 'lon', 'lat', 'speed').toPandas())\n"
            "fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))\n"
            "sc = a1.scatter(track.lon, track.lat, c=track.speed, s=8, cmap='viridis')\n"
            "a1.plot(track.lon, track.lat, lw=0.4, color='grey')\n"
            "fig.colorbar(sc, ax=a1, label='km/h')\n"
            "a1.set_title(f'{busiest.plate} {busiest.day} 轨迹 ({busiest.km:.1f} km)')\n"
            "a2.plot(track.gnss_time, track.speed, lw=0.8)\n"
            "a2.set_title('速度 speed (km/h)'); fig.autofmt_xdate(); plt.tight_layout()\n"
            "len(track)"
        ),
    ]
    nb = nbf.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


if __name__ == "__main__":
    nbf.write(explore_positions(), HERE / "01_explore_positions.ipynb")
