"""A written .mp4 plays in a web browser (headless Chromium, where it is installed)."""

import functools
import http.server
import shutil
import subprocess
import tempfile
import threading

import numpy as np
import pytest

from keras_vidgan import video_io

PAGE = """<html><body><video id="v" src="clip.mp4" muted playsinline></video>
<canvas id="c"></canvas><pre id="out">pending</pre><script>
const v = document.getElementById('v'), out = document.getElementById('out');
v.addEventListener('error', () => { out.textContent = 'error ' + (v.error && v.error.code); });
v.addEventListener('canplaythrough', () => { v.play().then(() => setTimeout(() => {
  const c = document.getElementById('c'); c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let s = 0;
  for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2];
  out.textContent = 'readyState=' + v.readyState + ' width=' + v.videoWidth + ' sum=' + s;
}, 300)); });
</script></body></html>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=10000", "--dump-dom"]


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium installed (Debian: apt-get install chromium)")


def _play(folder):
    """What the page reports after loading `folder/clip.mp4` in headless Chromium."""
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [_browser(), *FLAGS, f"--user-data-dir={profile}",
                 f"http://127.0.0.1:{server.server_port}/index.html"],
                capture_output=True, text=True, timeout=120,
            )
    finally:
        server.shutdown()
        server.server_close()
    return done.stdout.split('<pre id="out">', 1)[-1].split("</pre>", 1)[0]


def _clip():
    clip = np.full((8, 32, 32, 3), 96, np.uint8)
    for t in range(8):
        clip[t, 8:20, 2 + 2 * t:14 + 2 * t] = (220, 40, 40)
    return video_io.upscale(clip, 8)


@pytest.mark.slow
def test_mp4_plays_in_chromium_and_draws_a_frame(tmp_path):
    _browser()
    video_io.write_video(tmp_path / "clip.mp4", _clip())
    report = _play(tmp_path)
    assert report.startswith("readyState=4 width=256"), report
    assert int(report.rsplit("sum=", 1)[1]) > 0  # a frame was drawn, not a black canvas


@pytest.mark.slow
def test_the_mp4v_fallback_is_what_browsers_refuse(tmp_path, monkeypatch):
    """The check above can fail: Chromium refuses MPEG-4 Part 2 (why H.264 is the default)."""
    _browser()
    monkeypatch.setattr(video_io, "_h264_available", lambda: False)
    with pytest.warns(UserWarning):
        video_io.write_video(tmp_path / "clip.mp4", _clip())
    assert _play(tmp_path).startswith("error"), "Chromium played mp4v?"
