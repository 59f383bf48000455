"""A ``media_storage=bucket`` site on the emulated Railway, with a real S3 API (moto's server).

One module-wide deployment of the baked ``bucket`` combination, two replicas. An avatar is
uploaded through the admin (a real multipart POST with CSRF, over the emulated edge) on one
replica and read back through its presigned URL from the other; both are restarted from a fresh
copy of the build and the file is still there; the object is in the bucket (asked with boto3);
nothing was written in the container's folder. Then the bad inputs: a non-image, a pixel bomb,
and a bucket that does not answer (bounded 503 from /health/ and from an upload).

Prints the figures for the issue: upload-to-readback time across replicas, /health/ and an
upload with the bucket hung (run with ``-s``).
"""

from __future__ import annotations

import re
import shutil
import socket
import struct
import threading
import time
import urllib.request
import zlib
from collections.abc import Iterator
from html import unescape

import pytest

from tests.support.forms import form_values, multipart
from tests.support.live_site import Server, Site, prepared_site, serve
from tests.support.s3_server import s3_server

pytestmark = pytest.mark.slow

AVATAR_LINK = re.compile(r'Currently: <a href="([^"]+)">')
BUCKET_TIMEOUT = "2"


def png(width: int, height: int, pixels: bytes | None = None) -> bytes:
    """Return a PNG file (8-bit grey); with ``pixels`` None, a real all-white image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    if pixels is None:
        pixels = b"".join(b"\0" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


class SilentBucket:
    """A TCP server that accepts connections and never answers, like a hung bucket."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.socket.close()


@pytest.fixture(scope="module")
def site(get_baked, tmp_path_factory) -> Iterator[Site]:
    with prepared_site(get_baked, tmp_path_factory, "bucket", "media") as site:
        yield site


@pytest.fixture(scope="module")
def admin_password(site: Site) -> str:
    return site.create_superuser("curator")


def logged_in(site: Site, server: Server, password: str):
    edge = site.edge()
    login = site.login(edge, "curator", password, form_from=server.instance)
    assert login.answer.status == 302, site.show(login.answer.text)
    return edge


def change_page(site: Site, edge, server: Server) -> tuple[str, str]:
    """Return (path, html) of the curator's own change page in the admin."""
    listing = edge.request(server.instance, f"{site.admin}users/user/?q=curator")
    assert listing.status == 200, site.show(listing.text)
    found = re.search(r'href="(' + re.escape(site.admin) + r"users/user/\d+/change/)", listing.text)
    assert found, site.show(listing.text)
    page = edge.request(server.instance, found.group(1))
    assert page.status == 200, site.show(page.text)
    return found.group(1), page.text


def upload_avatar(site: Site, edge, server: Server, data: bytes, filename: str = "logo.png"):
    """Post the change form back with ``data`` as the avatar; return the answer."""
    path, html = change_page(site, edge, server)
    fields = form_values(html, "user_form")  # the change form, not the logout form
    body, content_type = multipart(fields, {"avatar": (filename, data, "image/png")})
    return edge.request(
        server.instance,
        path,
        method="POST",
        headers={
            "Content-Type": content_type,
            "Origin": edge.origin,
            "Referer": edge.origin + path,
        },
        body=body,
        timeout=30,
    )


def avatar_url(site: Site, edge, server: Server) -> str:
    _, html = change_page(site, edge, server)
    link = AVATAR_LINK.search(html)
    assert link, "no avatar on the change page:\n" + site.show(html)
    return unescape(link.group(1))


def read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback S3
        return answer.read()


def container_files(site: Site) -> set[str]:
    """Every file in the image folder except bytecode caches."""
    return {
        str(path.relative_to(site.project))
        for path in site.project.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_upload_on_one_replica_reads_back_on_the_other_and_survives_a_redeploy(
    site, admin_password, tmp_path
):
    image = png(48, 32)
    before = container_files(site)
    bucket = site.deployment.variables["BUCKET"]
    with serve(site) as first, serve(site) as second:
        edge = logged_in(site, first, admin_password)
        other = logged_in(site, second, admin_password)
        started = time.monotonic()
        answer = upload_avatar(site, edge, first, image)
        assert answer.status == 302, site.show(answer.text)
        # The other replica (its own process and container) links to the same file.
        url = avatar_url(site, other, second)
        assert read(url) == image
        seconds = time.monotonic() - started
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url, url
    print(f"\nupload on one replica, read back on the other by presigned URL: {seconds:.2f} s")

    keys = s3_server().keys(bucket)
    assert any(key.startswith("avatars/") and key.endswith(".png") for key in keys), keys
    assert container_files(site) == before, "files were written in the container"
    assert not (site.project / "media").exists()

    # A redeploy: both replicas start again from a fresh copy of the build.
    fresh = tmp_path / "fresh-image"
    shutil.copytree(site.project, fresh, symlinks=True)
    for replica in ("fresh-1", "fresh-2"):
        instance = site.deployment.instance(replica, image=fresh).start()
        try:
            instance.wait_healthy("/health/", 60)
            server = Server(site, instance)
            assert read(avatar_url(site, logged_in(site, server, admin_password), server)) == image
        finally:
            instance.stop()


def test_non_images_and_pixel_bombs_are_refused(site, admin_password):
    bucket = site.deployment.variables["BUCKET"]
    with serve(site) as server:
        edge = logged_in(site, server, admin_password)
        before = set(s3_server().keys(bucket))
        text = upload_avatar(site, edge, server, b"GIF89a but not really", "fake.png")
        assert text.status == 200 and "Upload a valid image" in text.text, site.show(text.text)
        # 6 000 x 6 000 pixels claimed by a file of a few hundred bytes (never decoded).
        bomb = png(6_000, 6_000, pixels=b"\0" * 6_001 * 4)
        assert len(bomb) < 1_000
        answer = upload_avatar(site, edge, server, bomb, "bomb.png")
        assert answer.status == 200, site.show(answer.text)
        assert "the limit is 4096 x 4096" in answer.text, site.show(answer.text)
        assert set(s3_server().keys(bucket)) == before, "a refused file reached the bucket"


def test_a_hung_bucket_gives_bounded_503s(site, admin_password):
    hung = SilentBucket()
    try:
        with serve(
            site,
            {
                "ENDPOINT": f"http://127.0.0.1:{hung.port}",
                "BUCKET_TIMEOUT": BUCKET_TIMEOUT,
                "HEALTH_CHECK_TIMEOUT": "2",
                "HEALTH_CHECK_MAX_AGE": "0",
            },
        ) as server:
            started = time.monotonic()
            health = server.request("/health/", headers={"Host": "healthcheck.railway.app"})
            health_seconds = time.monotonic() - started
            assert health.status == 503, health.body
            assert '"bucket": "fail"' in health.body, health.body
            assert '"database": "pass"' in health.body, health.body

            edge = logged_in(site, server, admin_password)
            started = time.monotonic()
            answer = upload_avatar(site, edge, server, png(8, 8))
            upload_seconds = time.monotonic() - started
            assert answer.status == 503, site.show(answer.text)
            assert "File storage is not answering" in answer.text
            # The worker is free again: the next request is answered.
            assert server.request("/health/live/").status == 200
        assert hung.accepted, "the site never tried the hung bucket"
    finally:
        hung.close()
    print(
        f"\nbucket hung (BUCKET_TIMEOUT={BUCKET_TIMEOUT}): /health/ 503 in {health_seconds:.2f} s,"
        f" upload 503 in {upload_seconds:.2f} s"
    )
