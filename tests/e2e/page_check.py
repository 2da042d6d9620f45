#!/usr/bin/env python3
"""A bag's index.html, as headless Chromium draws it, against pages that show stock ffmpeg's decode
of each clip's first picture in place of the video (tests/e2e/bag-page.sh).

  page_check.py variants BAG       writes beside BAG's index.html:
                                     ref.html        each <video> replaced by an <img> of the clip's
                                                     first picture, decoded by ffmpeg (first.png)
                                     bare.html       index.html without the video controls
                                     broken.html     index.html with every video's file missing
  page_check.py shot PAGE PNG H    PAGE drawn by headless Chromium, 1280 pixels wide and H high
  page_check.py diff A.png B.png   the number of pixels where A and B differ by more than 48 levels
                                   in any colour
"""
import os
import re
import subprocess
import sys
import tempfile

VIDEO = re.compile(r'<video controls preload="auto" src="(data/[^"/]+/video\.mp4)"></video>')


def variants(bag):
    page = open(os.path.join(bag, "index.html"), encoding="utf-8").read()
    found = VIDEO.findall(page)
    if not found:
        sys.exit("no <video> of the expected form in index.html")

    def to_img(m):
        src = m.group(1)
        png = src.replace("video.mp4", "first.png")
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", os.path.join(bag, src), "-frames:v", "1",
                        os.path.join(bag, png)], check=True)
        return '<img src="%s">' % png

    # The same rule sizes the pictures as sizes the videos, so the two pages lay out alike.
    ref = VIDEO.sub(to_img, page).replace("video{", "video,img{")
    bare = page.replace("<video controls ", "<video ")
    broken = page.replace("/video.mp4\"", "/missing.mp4\"")
    for name, text in (("ref.html", ref), ("bare.html", bare), ("broken.html", broken)):
        with open(os.path.join(bag, name), "w", encoding="utf-8") as f:
            f.write(text)
    print(len(found))


def shot(page, png, height):
    # The flags keep Chromium off the (closed) network and out of the user's profile.
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--mute-audio", "--hide-scrollbars", "--user-data-dir=" + profile,
                        "--window-size=1280,%d" % int(height), "--virtual-time-budget=10000",
                        "--screenshot=" + os.path.abspath(png), "file://" + os.path.abspath(page)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    if not os.path.getsize(png):
        sys.exit("no screenshot")


def rgb(png):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", png],
                         check=True, capture_output=True, text=True).stdout.strip().split(",")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", png, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return (int(out[0]), int(out[1])), raw


def diff(a, b):
    (sa, ra), (sb, rb) = rgb(a), rgb(b)
    if sa != sb:
        sys.exit("sizes differ: %s and %s" % (sa, sb))
    n = 0
    # Compare a row at a time as bytes first: most rows are equal, and Python is slow per pixel.
    row = sa[0] * 3
    for y in range(sa[1]):
        xa, xb = ra[y * row:(y + 1) * row], rb[y * row:(y + 1) * row]
        if xa == xb:
            continue
        for x in range(0, row, 3):
            if max(abs(xa[x] - xb[x]), abs(xa[x + 1] - xb[x + 1]), abs(xa[x + 2] - xb[x + 2])) > 48:
                n += 1
    print(n)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "variants":
        variants(*args)
    elif cmd == "shot":
        shot(*args)
    elif cmd == "diff":
        diff(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
