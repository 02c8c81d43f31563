"""Test helpers shared by several test files."""
import numpy as np


def _area(poly):
    if len(poly) < 3:
        return 0.0
    x, y = np.asarray(poly).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _clip(subject, clipper):
    """Sutherland-Hodgman clipping of a polygon by a convex polygon."""
    # orient the clipper counter-clockwise
    cx, cy = np.asarray(clipper).T
    if np.dot(cx, np.roll(cy, -1)) - np.dot(cy, np.roll(cx, -1)) < 0:
        clipper = clipper[::-1]
    out = [tuple(p) for p in subject]
    for i in range(len(clipper)):
        a = np.asarray(clipper[i])
        b = np.asarray(clipper[(i + 1) % len(clipper)])

        def inside(p):
            return ((b[0] - a[0]) * (p[1] - a[1])
                    - (b[1] - a[1]) * (p[0] - a[0])) >= 0

        def cross_point(p, q):
            p, q = np.asarray(p), np.asarray(q)
            d1, d2 = q - p, b - a
            t = ((a[0] - p[0]) * d2[1] - (a[1] - p[1]) * d2[0]) / (
                d1[0] * d2[1] - d1[1] * d2[0])
            return tuple(p + t * d1)

        inp, out = out, []
        for j in range(len(inp)):
            cur, prev = inp[j], inp[j - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross_point(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross_point(prev, cur))
        if not out:
            break
    return out
