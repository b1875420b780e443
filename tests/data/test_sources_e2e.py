"""Reports on data where it lives, end to end through the CLI: an S3 bucket, a PostgreSQL query, the sample CSV.

What a scheduler gets: the same findings from every backend, inputs in
run.json that say where the data came from (URL, ETag, version, query, rows,
hashes), and no credential in run.json, the report, the executed notebook or
the kernel log.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from backend_cases import assert_same_findings, run_report
from cli_runs import run_cli
from servers import PG_PASSWORD, S3_SECRET

from mlreport import sample

pytestmark = pytest.mark.e2e


def _everything_written(run_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())


def test_drift_on_an_s3_bucket_from_pandas_and_duckdb(s3_server, tmp_path: Path):
    client = s3_server.client()
    client.create_bucket(Bucket="mlreport-e2e")
    client.put_bucket_versioning(Bucket="mlreport-e2e", VersioningConfiguration={"Status": "Enabled"})
    frame = sample.generate(12000, seed=2, weeks=4, incidents=("utilisation_zero",))
    for day, part in frame.groupby(frame["timestamp"].dt.strftime("%Y-%m-%d")):
        buffer = io.BytesIO()
        part.to_parquet(buffer, index=False)
        client.put_object(Bucket="mlreport-e2e", Key=f"card/date={day}/part-0.parquet", Body=buffer.getvalue())
    middle = (frame["timestamp"].min().floor("D") + pd.Timedelta(weeks=2)).strftime("%Y-%m-%d")
    params = ("reference_path=s3://mlreport-e2e/card/", f"current_start={middle}", "timestamp_column=timestamp",
              "classifier_sample=3000")
    out = tmp_path / "out"
    expected, expected_manifest, _ = run_report("drift", out, *params)
    got, manifest, html = run_report("drift", out, "backend=duckdb", *params)
    assert expected["status"] != "ok" and got["status"] == expected["status"]
    assert_same_findings(expected["findings"], got["findings"])
    pandas_inputs = expected_manifest["inputs"]
    assert len(pandas_inputs) == 28 and all(i["path"].startswith("s3://mlreport-e2e/card/date=") for i in pandas_inputs)
    assert all(i["etag"] and i["version"] and i["hash_of"] == "file" for i in pandas_inputs)
    duck_inputs = manifest["inputs"]
    assert {i["hash_of"] for i in duck_inputs} == {"objects"}
    assert sum(i["files"] for i in duck_inputs) == 28  # each window read its own days
    for run_dir in (Path(expected["run_dir"]), Path(got["run_dir"])):
        written = _everything_written(run_dir)
        assert S3_SECRET not in written and "mlreport-test-key" not in written
    assert "s3://mlreport-e2e/card/" in html


def test_drift_on_postgres_queries_keeps_the_password_out_of_every_record(postgres_server, tmp_path: Path):
    frame = sample.generate(6000, seed=4, weeks=4)
    postgres_server.execute("DROP TABLE IF EXISTS applications")
    types = {c: "timestamp" if c == "timestamp" else "double precision" if frame[c].dtype.kind in "fi" else "text"
             for c in frame.columns}
    columns = ", ".join(f'"{c}" {t}' for c, t in types.items())
    postgres_server.execute(f"CREATE TABLE applications ({columns})")
    with postgres_server.connect() as connection, connection.cursor() as cursor:
        with cursor.copy("COPY applications FROM STDIN") as copy:
            for row in frame.itertuples(index=False):
                copy.write_row([None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in row])
        connection.commit()
    middle = (frame["timestamp"].min().floor("D") + pd.Timedelta(weeks=2)).isoformat()
    url = postgres_server.url
    reference = f"sql:{url} select * from applications where timestamp < '{middle}' order by application_id"
    current = f"sql:{url} select * from applications where timestamp >= '{middle}' order by application_id"
    out = tmp_path / "out"
    env = {"PGPASSWORD": PG_PASSWORD}
    answers = {}
    for backend in ("pandas", "duckdb"):
        args = ["run", "drift", "--out", str(out), "--json", "-p", f"reference_path={reference}",
                "-p", f"current_path={current}", "-p", f"backend={backend}", "-p", "classifier_sample=3000"]
        result = run_cli(*args, env=env, cwd=tmp_path, timeout=600)
        assert result.returncode in (0, 1), result.stderr[-2000:]
        answers[backend] = json.loads(result.stdout)
        run_dir = Path(answers[backend]["run_dir"])
        manifest = json.loads((run_dir / "run.json").read_text())
        assert [i["hash_of"] for i in manifest["inputs"]] == ["result", "result"]
        assert manifest["inputs"][0]["query"].endswith("order by application_id")
        assert manifest["inputs"][0]["rows"] + manifest["inputs"][1]["rows"] == len(frame)
        assert PG_PASSWORD not in _everything_written(run_dir) and PG_PASSWORD not in result.stdout + result.stderr
    assert_same_findings(answers["pandas"]["findings"], answers["duckdb"]["findings"])
    # a password in the parameter is refused before anything runs, and not echoed
    leaked = reference.replace("report@", f"report:{PG_PASSWORD}@")
    refused = run_cli("run", "drift", "--out", str(out), "-p", f"reference_path={leaked}", "-p",
                      f"current_path={current}", cwd=tmp_path)
    assert refused.returncode == 2 and "PGPASSWORD" in refused.stderr
    assert PG_PASSWORD not in refused.stdout + refused.stderr
    assert len(list(out.glob("*/*/*/run.json"))) == 2


def test_drift_on_the_sample_csv_through_duckdb_equals_pandas(tmp_path: Path):
    """The project's own CSV (a target column empty in the current window) reads the same in DuckDB as in pandas."""
    assert run_cli("sample-data", str(tmp_path / "d"), "--rows", "20000", cwd=tmp_path).returncode == 0
    files = (f"reference_path={tmp_path / 'd' / 'reference.csv'}", f"current_path={tmp_path / 'd' / 'current.csv'}",
             "classifier_sample=3000")
    out = tmp_path / "out"
    expected, expected_manifest, _ = run_report("drift", out, *files)
    got, manifest, _ = run_report("drift", out, "backend=duckdb", *files)
    assert got["status"] == expected["status"] and got["headline"] == expected["headline"]
    assert_same_findings(expected["findings"], got["findings"])
    assert manifest["inputs"] == expected_manifest["inputs"]
