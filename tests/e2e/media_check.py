#!/usr/bin/env python3
"""Pixel and sound checks for tests/e2e/redact.sh, on what stock ffmpeg decodes (not bwv's code).

  media_check.py fill ORIG DERIV SPEC       every pixel of each fill box, in every frame it is on,
                                            within a tolerance of its colour; prints the worst
  media_check.py outside ORIG DERIV SPEC    outside every box (and a margin), per-frame mean and
                                            worst absolute difference from the original
  media_check.py rms FILE FROM_MS TO_MS     RMS of the sound in [FROM_MS, TO_MS)
  media_check.py crossings FILE FROM TO     zero crossings per second in [FROM, TO)
  media_check.py nals FILE                  the H.264 NAL unit types in the video, sorted
"""
import json
import math
import struct
import subprocess
import sys
from fractions import Fraction


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,avg_frame_rate", "-of", "json", path],
                         check=True, capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    num, den = s["avg_frame_rate"].split("/")
    return s["width"], s["height"], Fraction(int(num), int(den))


def frames(path):
    w, h, _ = probe(path)
    size = w * h * 3 // 2
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-f", "rawvideo",
                          "-pix_fmt", "yuv420p", "-"], stdout=subprocess.PIPE)
    while True:
        b = p.stdout.read(size)
        if len(b) < size:
            break
        yield b
    if p.wait() != 0:
        sys.exit("ffmpeg failed to decode " + path)


def rnd(v):  # nearest, halves up
    return math.floor(v + Fraction(1, 2))


def box_at(kf, t):
    if t <= kf[0]["t_ms"]:
        k = kf[0]
        return k["x"], k["y"], k["w"], k["h"]
    for a, b in zip(kf, kf[1:]):
        if a["t_ms"] <= t <= b["t_ms"]:
            f = Fraction(t - a["t_ms"], b["t_ms"] - a["t_ms"])
            return tuple(rnd(a[k] + (b[k] - a[k]) * f) for k in ("x", "y", "w", "h"))
    k = kf[-1]
    return k["x"], k["y"], k["w"], k["h"]


def boxes_on(spec, i, fps, w, h):
    """(rect, box) of every box on frame i, clipped to the frame."""
    ms, next_ms = Fraction(i * 1000) / fps, Fraction((i + 1) * 1000) / fps
    for b in spec.get("boxes", []):
        kf = b["keyframes"]
        first, last = kf[0]["t_ms"], kf[-1]["t_ms"]
        if not (ms <= last and next_ms > first):
            continue
        x, y, bw, bh = box_at(kf, max(ms, first))
        x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
        if x0 < x1 and y0 < y1:
            yield (x0, y0, x1, y1), b


def colour(b):
    c = b.get("color", "#000000").lstrip("#")
    r, g, bl = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    # BT.601 limited range, as the fill writes it
    y = round(16 + (65.481 * r + 128.553 * g + 24.966 * bl) / 255)
    u = round(128 + (-37.797 * r - 74.203 * g + 112.0 * bl) / 255)
    v = round(128 + (112.0 * r - 93.786 * g - 18.214 * bl) / 255)
    return y, u, v


def fill(orig, deriv, spec_path):
    spec = json.load(open(spec_path))
    w, h, fps = probe(deriv)
    worst, checked, frames_on = 0, 0, 0
    for i, f in enumerate(frames(deriv)):
        on = False
        for (x0, y0, x1, y1), b in boxes_on(spec, i, fps, w, h):
            if b.get("method", "fill") != "fill":
                continue
            on = True
            cy, cu, cv = colour(b)
            for y in range(y0, y1):
                row = f[y * w:(y + 1) * w]
                for x in range(x0, x1):
                    worst = max(worst, abs(row[x] - cy))
                    checked += 1
            cw = w // 2
            for plane, c in ((w * h, cu), (w * h + cw * (h // 2), cv)):
                for y in range((y0 + 1) // 2, y1 // 2):
                    for x in range((x0 + 1) // 2, x1 // 2):
                        worst = max(worst, abs(f[plane + y * cw + x] - c))
        frames_on += on
    print(f"{frames_on} {checked} {worst}")


def outside(orig, deriv, spec_path, margin=4):
    spec = json.load(open(spec_path))
    w, h, fps = probe(deriv)
    worst_mean, n = 0.0, 0
    for i, (a, b) in enumerate(zip(frames(orig), frames(deriv))):
        mask = bytearray(w * h)
        for (x0, y0, x1, y1), _ in boxes_on(spec, i, fps, w, h):
            for y in range(max(0, y0 - margin), min(h, y1 + margin)):
                mask[y * w + max(0, x0 - margin):y * w + min(w, x1 + margin)] = b"\1" * (min(w, x1 + margin) - max(0, x0 - margin))
        total = count = 0
        for k in range(w * h):
            if not mask[k]:
                total += abs(a[k] - b[k])
                count += 1
        worst_mean = max(worst_mean, total / max(1, count))
        n += 1
    print(f"{n} {worst_mean:.3f}")


def pcm(path, from_ms, to_ms):
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:a:0", "-f", "f32le",
                          "-ac", "1", "-ar", "48000", "-"], check=True, capture_output=True).stdout
    s = struct.unpack(f"<{len(out) // 4}f", out)
    return s[int(from_ms) * 48:int(to_ms) * 48]


def rms(path, from_ms, to_ms):
    s = pcm(path, from_ms, to_ms)
    print(f"{math.sqrt(sum(x * x for x in s) / max(1, len(s))):.6f}")


def crossings(path, from_ms, to_ms):
    s = pcm(path, from_ms, to_ms)
    n = sum(1 for a, b in zip(s, s[1:]) if (a < 0) != (b < 0))
    print(round(n / ((int(to_ms) - int(from_ms)) / 1000)))


def nals(path):
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-c", "copy",
                          "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"], check=True, capture_output=True).stdout
    types, i = set(), 0
    while True:
        i = out.find(b"\0\0\1", i)
        if i < 0 or i + 3 >= len(out):
            break
        types.add(out[i + 3] & 0x1F)
        i += 3
    print(" ".join(str(t) for t in sorted(types)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"fill": fill, "outside": outside, "rms": rms, "crossings": crossings, "nals": nals}[cmd](*args)
