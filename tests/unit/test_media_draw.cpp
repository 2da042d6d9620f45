#include "media/draw.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
}

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <numbers>
#include <vector>

using namespace bwv;

TEST_SUITE_BEGIN("media::draw");

namespace {

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

constexpr int k_w = 64, k_h = 48;

using Pattern = std::function<std::uint8_t(int plane, int x, int y)>;

// Distinct values in each plane, so that a stray write shows.
std::uint8_t gradient(int plane, int x, int y) {
  if (plane == 0) return static_cast<std::uint8_t>(x * 3 + y * 2);
  if (plane == 1) return static_cast<std::uint8_t>(40 + x * 2 + y);
  return static_cast<std::uint8_t>(200 - x - y * 2);
}

// High-frequency content, which a blur must visibly change.
std::uint8_t noise(int plane, int x, int y) {
  return static_cast<std::uint8_t>((x * 2654435761u + y * 40503u + plane * 977u) >> 7);
}

int plane_w(int p, int w) { return p == 0 ? w : (w + 1) / 2; }
int plane_h(int p, int h) { return p == 0 ? h : (h + 1) / 2; }

FramePtr video(const Pattern& pattern = gradient, int w = k_w, int h = k_h) {
  FramePtr f(av_frame_alloc());
  REQUIRE(f);
  f->format = AV_PIX_FMT_YUV420P;
  f->width = w;
  f->height = h;
  REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
  for (int p = 0; p < 3; ++p)
    for (int y = 0; y < plane_h(p, h); ++y)
      for (int x = 0; x < plane_w(p, w); ++x) f->data[p][y * f->linesize[p] + x] = pattern(p, x, y);
  return f;
}

// A plane's samples without the line padding, for comparing before and after.
struct Plane {
  int w, h;
  std::vector<std::uint8_t> v;
  std::uint8_t at(int x, int y) const { return v[static_cast<std::size_t>(y * w + x)]; }
};

std::vector<Plane> snap(const AVFrame* f) {
  std::vector<Plane> out;
  for (int p = 0; p < 3; ++p) {
    Plane pl{plane_w(p, f->width), plane_h(p, f->height), {}};
    for (int y = 0; y < pl.h; ++y)
      for (int x = 0; x < pl.w; ++x) pl.v.push_back(f->data[p][y * f->linesize[p] + x]);
    out.push_back(std::move(pl));
  }
  return out;
}

bool within(int x, int y, int x0, int y0, int x1, int y1) {
  return x >= x0 && x < x1 && y >= y0 && y < y1;
}

// Counts the samples of a plane outside [x0,x1) x [y0,y1) that differ between two snapshots.
int changed_outside(const Plane& a, const Plane& b, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      if (!within(x, y, x0, y0, x1, y1) && a.at(x, y) != b.at(x, y)) ++n;
  return n;
}

int count_equal(const Plane& p, int x0, int y0, int x1, int y1, std::uint8_t v) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) n += p.at(x, y) == v;
  return n;
}

// Checks that each cell (cells of `cell` from (ox, oy), cut to the area) is uniform and holds the
// rounded mean of what it held before.
void check_cells(const Plane& before, const Plane& after, int ox, int oy, int cell, int x0, int y0,
                 int x1, int y1) {
  for (int cy = oy; cy < y1; cy += cell)
    for (int cx = ox; cx < x1; cx += cell) {
      const int ax = std::max(cx, x0), ay = std::max(cy, y0);
      const int bx = std::min(cx + cell, x1), by = std::min(cy + cell, y1);
      if (ax >= bx || ay >= by) continue;
      int sum = 0;
      for (int y = ay; y < by; ++y)
        for (int x = ax; x < bx; ++x) sum += before.at(x, y);
      const int n = (bx - ax) * (by - ay);
      const auto mean = static_cast<std::uint8_t>((sum + n / 2) / n);
      INFO("cell at ", cx, ",", cy);
      CHECK(count_equal(after, ax, ay, bx, by, mean) == n);
    }
}

// Sum of absolute differences between horizontal and vertical neighbours inside an area.
int roughness(const Plane& p, int x0, int y0, int x1, int y1) {
  int s = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      if (x + 1 < x1) s += std::abs(p.at(x + 1, y) - p.at(x, y));
      if (y + 1 < y1) s += std::abs(p.at(x, y + 1) - p.at(x, y));
    }
  return s;
}

FramePtr audio(int channels, int samples, float value) {
  FramePtr a(av_frame_alloc());
  REQUIRE(a);
  a->format = AV_SAMPLE_FMT_FLTP;
  a->nb_samples = samples;
  a->sample_rate = 48000;
  av_channel_layout_default(&a->ch_layout, channels);
  REQUIRE(av_frame_get_buffer(a.get(), 0) == 0);
  for (int c = 0; c < channels; ++c)
    for (int i = 0; i < samples; ++i) reinterpret_cast<float*>(a->extended_data[c])[i] = value;
  return a;
}

float sample(const AVFrame* a, int channel, int i) {
  return reinterpret_cast<const float*>(a->extended_data[channel])[i];
}

} // namespace

TEST_CASE("fill paints the rect in BT.601 limited range and nothing else") {
  auto f = video();
  const auto before = snap(f.get());
  media::fill(f.get(), {10, 8, 20, 12}, 255, 0, 0); // red: Y 81, Cb 90, Cr 240
  const auto after = snap(f.get());
  CHECK(count_equal(after[0], 10, 8, 30, 20, 81) == 20 * 12);
  CHECK(changed_outside(before[0], after[0], 10, 8, 30, 20) == 0);
  // Even edges: exactly the chroma samples of the rect.
  CHECK(count_equal(after[1], 5, 4, 15, 10, 90) == 10 * 6);
  CHECK(count_equal(after[2], 5, 4, 15, 10, 240) == 10 * 6);
  CHECK(changed_outside(before[1], after[1], 5, 4, 15, 10) == 0);
  CHECK(changed_outside(before[2], after[2], 5, 4, 15, 10) == 0);

  media::fill(f.get(), {0, 0, 2, 2}, 0, 0, 0);
  CHECK(snap(f.get())[0].at(0, 0) == 16);
  CHECK(snap(f.get())[1].at(0, 0) == 128);
  media::fill(f.get(), {0, 0, 2, 2}, 255, 255, 255);
  CHECK(snap(f.get())[0].at(1, 1) == 235);
  CHECK(snap(f.get())[2].at(0, 0) == 128);
}

TEST_CASE("fill covers every chroma block its rect touches at odd edges") {
  auto f = video();
  const auto before = snap(f.get());
  media::fill(f.get(), {11, 9, 7, 5}, 0, 0, 255); // luma [11,18) x [9,14)
  const auto after = snap(f.get());
  const std::uint8_t y = 41, cb = 240, cr = 110; // BT.601 limited blue
  CHECK(count_equal(after[0], 11, 9, 18, 14, y) == 7 * 5);
  CHECK(changed_outside(before[0], after[0], 11, 9, 18, 14) == 0);
  // Chroma [5,9) x [4,7): the blocks of luma 10..17 and 8..13, one pixel past each odd edge.
  CHECK(count_equal(after[1], 5, 4, 9, 7, cb) == 4 * 3);
  CHECK(count_equal(after[2], 5, 4, 9, 7, cr) == 4 * 3);
  CHECK(changed_outside(before[1], after[1], 5, 4, 9, 7) == 0);
  CHECK(changed_outside(before[2], after[2], 5, 4, 9, 7) == 0);
}

TEST_CASE("a rect partly outside the frame is clipped to it") {
  auto f = video();
  const auto before = snap(f.get());
  media::fill(f.get(), {-5, 40, 20, 100}, 0, 0, 0); // luma [0,15) x [40,48)
  const auto after = snap(f.get());
  CHECK(count_equal(after[0], 0, 40, 15, 48, 16) == 15 * 8);
  CHECK(changed_outside(before[0], after[0], 0, 40, 15, 48) == 0);
  CHECK(count_equal(after[1], 0, 20, 8, 24, 128) == 8 * 4);
  CHECK(changed_outside(before[1], after[1], 0, 20, 8, 24) == 0);

  // Huge sizes do not overflow.
  media::fill(f.get(), {60, 0, 2147483647, 2147483647}, 0, 0, 0);
  CHECK(count_equal(snap(f.get())[0], 60, 0, 64, 48, 16) == 4 * 48);
}

TEST_CASE("a rect wholly outside the frame, or empty, changes nothing") {
  for (const media::Rect r : {media::Rect{64, 0, 10, 10}, media::Rect{0, 48, 10, 10},
                              media::Rect{-10, -10, 10, 10}, media::Rect{5, 5, 0, 10},
                              media::Rect{5, 5, -4, -4}}) {
    INFO("rect ", r.x, ",", r.y, " ", r.w, "x", r.h);
    auto f = video(noise);
    const auto before = snap(f.get());
    media::fill(f.get(), r, 255, 255, 255);
    media::pixelate(f.get(), r, 8);
    media::blur(f.get(), r, 4);
    const auto after = snap(f.get());
    for (int p = 0; p < 3; ++p) CHECK(before[p].v == after[p].v);
  }
}

TEST_CASE("pixelate makes each cell the mean of its pixels and leaves the outside alone") {
  auto f = video(noise);
  const auto before = snap(f.get());
  // Luma [8,44) x [8,28): partial cells at the far edges.
  media::pixelate(f.get(), {8, 8, 36, 20}, 8);
  const auto after = snap(f.get());
  check_cells(before[0], after[0], 8, 8, 8, 8, 8, 44, 28);
  CHECK(changed_outside(before[0], after[0], 8, 8, 44, 28) == 0);
  for (int p = 1; p <= 2; ++p) {
    check_cells(before[p], after[p], 4, 4, 4, 4, 4, 22, 14);
    CHECK(changed_outside(before[p], after[p], 4, 4, 22, 14) == 0);
  }
}

TEST_CASE("pixelate at odd edges and off the frame's edge") {
  auto f = video(noise);
  const auto before = snap(f.get());
  media::pixelate(f.get(), {-3, 37, 30, 20}, 8); // luma [0,27) x [37,48), cells from (-3,37)
  const auto after = snap(f.get());
  check_cells(before[0], after[0], -3, 37, 8, 0, 37, 27, 48);
  CHECK(changed_outside(before[0], after[0], 0, 37, 27, 48) == 0);
  // Chroma only where the whole 2x2 block is inside: x [0,13), y [19,24) (the frame ends the rect).
  for (int p = 1; p <= 2; ++p) {
    check_cells(before[p], after[p], -2, 18, 4, 0, 19, 13, 24);
    CHECK(changed_outside(before[p], after[p], 0, 19, 13, 24) == 0);
  }
}

TEST_CASE("pixelate raises a small block to the minimum") {
  auto a = video(noise), b = video(noise);
  media::pixelate(a.get(), {8, 8, 32, 32}, 2);
  media::pixelate(b.get(), {8, 8, 32, 32}, media::k_min_pixelate_block);
  const auto sa = snap(a.get()), sb = snap(b.get());
  for (int p = 0; p < 3; ++p) CHECK(sa[p].v == sb[p].v);
}

TEST_CASE("blur smooths the inside, leaves the outside alone and reads nothing outside") {
  auto f = video(noise);
  const auto before = snap(f.get());
  media::blur(f.get(), {16, 12, 24, 20}, 4); // luma [16,40) x [12,32)
  const auto after = snap(f.get());
  CHECK(roughness(after[0], 16, 12, 40, 32) * 4 < roughness(before[0], 16, 12, 40, 32));
  CHECK(changed_outside(before[0], after[0], 16, 12, 40, 32) == 0);
  for (int p = 1; p <= 2; ++p) {
    CHECK(roughness(after[p], 8, 6, 20, 16) * 2 < roughness(before[p], 8, 6, 20, 16));
    CHECK(changed_outside(before[p], after[p], 8, 6, 20, 16) == 0);
  }

  // Odd edges: chroma changes only where its whole block is inside.
  auto g = video(noise);
  const auto g0 = snap(g.get());
  media::blur(g.get(), {15, 11, 22, 20}, 6); // luma [15,37) x [11,31)
  const auto g1 = snap(g.get());
  CHECK(changed_outside(g0[0], g1[0], 15, 11, 37, 31) == 0);
  for (int p = 1; p <= 2; ++p) CHECK(changed_outside(g0[p], g1[p], 8, 6, 18, 15) == 0);
}

TEST_CASE("blur keeps a uniform rect uniform, whatever surrounds it") {
  // The rect is flat and its surroundings are noise: any read outside would show inside.
  auto f = video([](int p, int x, int y) -> std::uint8_t {
    if (p == 0) return within(x, y, 16, 12, 40, 32) ? 77 : noise(p, x, y);
    return within(x, y, 8, 6, 20, 16) ? 150 : noise(p, x, y);
  });
  const auto before = snap(f.get());
  media::blur(f.get(), {16, 12, 24, 20}, 8);
  const auto after = snap(f.get());
  for (int p = 0; p < 3; ++p) CHECK(before[p].v == after[p].v);
}

TEST_CASE("mute zeroes exactly [from, to) across frames, on every channel") {
  for (const int channels : {1, 2}) {
    INFO(channels, " channels");
    auto a = audio(channels, 1024, 0.5f), b = audio(channels, 1024, 0.5f);
    media::mute(a.get(), 0, 1000, 1100);
    media::mute(b.get(), 1024, 1000, 1100);
    for (int c = 0; c < channels; ++c) {
      for (int i = 0; i < 1024; ++i) {
        INFO("sample ", i);
        CHECK(sample(a.get(), c, i) == (i >= 1000 ? 0.0f : 0.5f));
        CHECK(sample(b.get(), c, i) == (1024 + i < 1100 ? 0.0f : 0.5f));
      }
    }
  }
  // A range outside the frame leaves it alone.
  auto a = audio(1, 1024, 0.5f);
  media::mute(a.get(), 2048, 0, 2048);
  media::mute(a.get(), 2048, 3072, 9000);
  for (int i = 0; i < 1024; ++i) CHECK(sample(a.get(), 0, i) == 0.5f);
}

TEST_CASE("bleep is a 1 kHz tone at -12 dBFS, continuous across frames") {
  auto a = audio(2, 1024, 0.5f), b = audio(2, 1024, 0.5f);
  media::bleep(a.get(), 0, 100, 5000, 48000);
  media::bleep(b.get(), 1024, 100, 5000, 48000);
  std::vector<float> tone; // channel 0 of both frames, in order
  for (const AVFrame* f : {a.get(), b.get()})
    for (int i = 0; i < 1024; ++i) {
      CHECK(sample(f, 0, i) == sample(f, 1, i));
      tone.push_back(sample(f, 0, i));
    }
  for (int n = 0; n < 100; ++n) CHECK(tone[n] == 0.5f);
  float peak = 0;
  for (int n = 100; n < 2048; ++n) {
    INFO("sample ", n);
    const double expected = 0.25 * std::sin(2 * std::numbers::pi * 1000 * n / 48000);
    CHECK(tone[n] == doctest::Approx(expected).epsilon(1e-6));
    peak = std::max(peak, std::abs(tone[n]));
  }
  CHECK(peak == doctest::Approx(0.25f));
  // At the frame boundary the step is no larger than anywhere else in the tone.
  const double max_step = 0.25 * 2 * std::numbers::pi * 1000 / 48000;
  CHECK(std::abs(tone[1024] - tone[1023]) <= max_step);

  // Hours in, the phase is still exact.
  auto c = audio(1, 48, 0.0f);
  const std::int64_t late = std::int64_t{48000} * 3600 * 9;
  media::bleep(c.get(), late, 0, late + 48, 48000);
  for (int i = 0; i < 48; ++i) CHECK(sample(c.get(), 0, i) == tone[144 + std::size_t(i)]);
}

TEST_SUITE_END();
