"""``cms-pricing fetch`` against the loopback mirror: the real files packed as CMS packs them,
and every fault of a real download. Each failure leaves the data folder as it was."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cms_mirror import SHARED, Mirror, archive, dataset, pack_files, running

from cms_pricing.cli import main
from cms_pricing.config import get_settings

ASP, WAGE, CLFS = "ASP-2025Q1", "WAGE-2025", "CLFS-2025Q1"


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but staging) and its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".staging" not in p.parts
    }


def _real(dataset_id: str) -> dict[str, str]:
    folder = dataset(dataset_id).folder
    return {f"{folder}/{name}": sha for name, sha in _tree(SHARED / folder).items()}


def test_fetch_downloads_verifies_and_lays_out_then_downloads_nothing(
    data_dir: Path,
    mirror: Mirror,
    serve_dataset: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """From an empty folder: each archive downloaded once, unpacked flat into the layout ingest
    reads (the files equal the real ones); a second run finds them and downloads nothing."""
    for ident in (ASP, WAGE, CLFS):
        serve_dataset(ident)
    args = ["fetch", "--year", "2025", "--schedule", "asp", "--schedule", "wage-index",
            "--schedule", "clfs"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"CMS files missing in {data_dir}: downloading from {mirror.url}" in out
    assert out.splitlines()[-1] == (
        f"3 datasets fetched, 0 already present, 0 failed; data folder {data_dir}"
    )
    assert _tree(data_dir) == {**_real(ASP), **_real(WAGE), **_real(CLFS)}
    assert not list((data_dir / ".staging").rglob("*.zip"))

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "downloading" not in out
    assert out.splitlines()[-1].startswith("0 datasets fetched, 3 already present, 0 failed")
    assert [mirror.hits(dataset(i).path) for i in (ASP, WAGE, CLFS)] == [1, 1, 1]


def test_a_wrong_checksum_is_refused_and_the_old_files_stay(
    data_dir: Path, serve_dataset: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A member whose content is not the manifest's sha256 is refused, named with both
    hashes; the folder already there (another version) is left byte for byte."""
    folder = data_dir / dataset(ASP).folder
    folder.mkdir(parents=True)
    (folder / "older.csv").write_text("an older ASP file\n")
    real = SHARED / dataset(ASP).folder
    [csv] = list(real.iterdir())
    changed = csv.read_bytes().replace(b"J0", b"J9", 1)
    serve_dataset(ASP, pack_files([], extra={f"asp/{csv.name}": changed}))
    assert main(["fetch", "--schedule", "asp"]) == 1
    err = capsys.readouterr().err
    expected = dataset(ASP).members[0].sha256
    assert err.strip() == (
        f"failed: {ASP}: {dataset(ASP).archive_name}: member {csv.name!r} has sha256 "
        f"{hashlib.sha256(changed).hexdigest()}, the manifest expects {expected}"
    )
    assert _tree(data_dir) == {f"{dataset(ASP).folder}/older.csv": _sha(b"an older ASP file\n")}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_download_always_cut_short_fails_and_keeps_its_part(
    data_dir: Path, mirror: Mirror, serve_dataset: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A server that always stops at 60% of the announced length: each retry resumes with
    Range, then a failure naming the address; nothing reaches the data folder, and the .part
    holds what arrived, for the next run to resume."""
    url = serve_dataset(WAGE, mode="truncate")
    assert main(["fetch", "--schedule", "wage-index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"failed: {WAGE}: {url}: download failed after 4 attempts: ")
    assert _tree(data_dir) == {}
    [part] = list((data_dir / ".staging" / "downloads").iterdir())
    assert part.name.endswith(".part")
    held, asked = 0, []  # each answer brings 60% of what is left; each retry resumes there
    for _ in range(4):
        asked.append(f"bytes={held}-" if held else None)
        held += int((len(archive(WAGE)) - held) * 0.6)
    assert [r for _, r, _ in mirror.seen] == asked
    assert part.read_bytes() == archive(WAGE)[:held]


def test_a_server_fault_mid_file_is_resumed_with_range(
    data_dir: Path, mirror: Mirror, serve_dataset: Callable[..., str]
) -> None:
    """The connection drops at 40% once: the next request asks for the rest (Range) and the
    archive completes and verifies."""
    serve_dataset(CLFS, mode="cut-once")
    assert main(["fetch", "--schedule", "clfs"]) == 0
    cut = int(len(archive(CLFS)) * 0.4)
    assert [r for _, r, _ in mirror.seen] == [None, f"bytes={cut}-"]
    assert _tree(data_dir) == _real(CLFS)


def test_a_500_is_retried_with_backoff(
    data_dir: Path, mirror: Mirror, serve_dataset: Callable[..., str]
) -> None:
    """A 500 once: urllib3's retry asks again and the download completes."""
    serve_dataset(ASP, mode="error-once")
    assert main(["fetch", "--schedule", "asp"]) == 0
    assert mirror.hits(dataset(ASP).path) == 2
    assert _tree(data_dir) == _real(ASP)


def test_a_server_that_always_fails_leaves_nothing(
    data_dir: Path, serve_dataset: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Always 500: a failure naming the address once retries are spent."""
    url = serve_dataset(ASP, mode="error")
    assert main(["fetch", "--schedule", "asp"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"failed: {ASP}: {url}: ")
    assert "500" in err
    assert _tree(data_dir) == {}


def test_a_slow_server_is_retried_then_a_stalled_one_fails(
    data_dir: Path, mirror: Mirror, serve_dataset: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Slower than the 1 s read timeout once: the retry succeeds. Always that slow: the
    failure says it timed out."""
    serve_dataset(ASP, mode="slow-once", delay=1.5)
    assert main(["fetch", "--schedule", "asp"]) == 0
    assert _tree(data_dir) == _real(ASP)

    url = serve_dataset(WAGE, mode="slow", delay=1.5)
    assert main(["fetch", "--schedule", "wage-index"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"failed: {WAGE}: {url}: timed out (retried 3 times)"
    assert _tree(data_dir) == _real(ASP)


def test_an_archive_with_a_parent_member_is_refused(
    data_dir: Path, serve_dataset: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``../`` member: refused before anything is written, nothing lands outside either."""
    real = SHARED / dataset(WAGE).folder
    serve_dataset(WAGE, pack_files(list(real.iterdir()), extra={"../../escaped.txt": b"x"}))
    assert main(["fetch", "--schedule", "wage-index"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        f"failed: {WAGE}: {dataset(WAGE).archive_name}: member '../../escaped.txt' points "
        "outside the archive's folder"
    )
    assert _tree(data_dir) == {}
    assert not list(data_dir.parent.rglob("escaped.txt"))


def test_the_proxy_variables_are_used(
    data_dir: Path, mirror: Mirror, serve_dataset: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """With HTTP_PROXY set, the request goes to the proxy (here the mirror) with the full
    address of a host that does not resolve."""
    serve_dataset(ASP)
    monkeypatch.setenv("CMS_PRICING_FETCH_BASE_URL", "http://cms.invalid/")
    monkeypatch.setenv("HTTP_PROXY", mirror.url)
    monkeypatch.setenv("NO_PROXY", "")
    assert main(["fetch", "--schedule", "asp"]) == 0
    assert mirror.seen == [(f"/{dataset(ASP).path}", None, True)]
    assert _tree(data_dir) == _real(ASP)


def test_from_a_folder_of_archives_carried_in(
    data_dir: Path, tmp_path: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--from FOLDER``: archives under any name are matched to datasets by their members,
    verified and laid out as a download would be; nothing is downloaded."""
    carried = tmp_path / "usb"
    carried.mkdir()
    (carried / "a.zip").write_bytes(archive(ASP))
    (carried / "sub").mkdir()
    (carried / "sub" / "b.zip").write_bytes(archive(WAGE))
    assert main(["fetch", "--from", str(carried), "--schedule", "asp",
                 "--schedule", "wage-index"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"{ASP}: from {carried / 'a.zip'}" in out
    assert f"{WAGE}: from {carried / 'sub' / 'b.zip'}" in out
    assert _tree(data_dir) == {**_real(ASP), **_real(WAGE)}
    assert mirror.seen == []


def test_from_an_archive_that_fails_verification(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--from ARCHIVE`` with a changed member: refused like a download; a dataset whose
    files are not in the source is named."""
    real = SHARED / dataset(WAGE).folder
    [csv] = list(real.iterdir())
    bad = tmp_path / "wage.zip"
    bad.write_bytes(pack_files([], extra={csv.name: csv.read_bytes() + b"\n"}))
    assert main(["fetch", "--from", str(bad), "--schedule", "wage-index",
                 "--schedule", "asp"]) == 1  # fmt: skip
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"failed: {WAGE}: wage.zip: member {csv.name!r} has sha256 ")
    assert (
        err[1] == f"failed: {ASP}: {bad}: no archive or files of {ASP} "
        f"({dataset(ASP).archive_name})"
    )
    assert _tree(data_dir) == {}


def test_from_the_unpacked_shared_folder(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--from`` a folder of unpacked files (a copy of the data tree): verified and copied."""
    assert main(["fetch", "--from", str(SHARED), "--schedule", "clfs"]) == 0
    assert _tree(data_dir) == _real(CLFS)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), as a TLS-inspecting proxy's CA."""
    cert, key = folder / "ca.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_with_a_custom_ca(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Over HTTPS with a certificate no system CA signed: refused (naming the address) until
    CMS_PRICING_FETCH_CA_BUNDLE names its CA, then fetched and verified."""
    cert, key = _certificate(tmp_path)
    with running(tls=(cert, key)) as secure:
        secure.put(dataset(ASP).path, archive(ASP))
        monkeypatch.setenv("CMS_PRICING_FETCH_BASE_URL", secure.url)
        monkeypatch.setenv("CMS_PRICING_FETCH_RETRIES", "0")
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        get_settings.cache_clear()
        assert main(["fetch", "--schedule", "asp"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"failed: {ASP}: {secure.url}/{dataset(ASP).path}: ")
        assert "CERTIFICATE_VERIFY_FAILED" in err
        assert _tree(data_dir) == {}

        monkeypatch.setenv("CMS_PRICING_FETCH_CA_BUNDLE", str(cert))
        get_settings.cache_clear()
        assert main(["fetch", "--schedule", "asp"]) == 0
        assert _tree(data_dir) == _real(ASP)
