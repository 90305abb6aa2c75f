"""Reference for env/vanderpol_test.go: the unforced van der Pol oscillator
(mu = 1) integrated with float64 RK4 at h = 1e-4 in plain Python (no numpy,
no scipy), from (2, 0). Writes the limit-cycle period (mean of the intervals
between upward zero crossings of x, located by cubic Hermite interpolation)
and amplitude (max |x| after the transient), and the state at t = 1, 2, 5 s.

    /usr/bin/python3 env/testdata/gen_vanderpol.py > env/testdata/vanderpol.json
"""
import json

MU = 1.0
H = 1e-4


def f(x, y):
    return y, MU * (1 - x * x) * y - x


def rk4(x, y, h):
    k1x, k1y = f(x, y)
    k2x, k2y = f(x + 0.5 * h * k1x, y + 0.5 * h * k1y)
    k3x, k3y = f(x + 0.5 * h * k2x, y + 0.5 * h * k2y)
    k4x, k4y = f(x + h * k3x, y + h * k3y)
    return (x + h / 6 * (k1x + 2 * k2x + 2 * k3x + k4x),
            y + h / 6 * (k1y + 2 * k2y + 2 * k3y + k4y))


def main():
    x, y = 2.0, 0.0
    n = int(round(80.0 / H))
    checkpoints = {int(round(1.0 / H)): 1.0, int(round(2.0 / H)): 2.0, int(round(5.0 / H)): 5.0}
    states = []
    crossings = []
    amp = 0.0
    for k in range(n):
        if k in checkpoints:
            states.append({"t": checkpoints[k], "x": x, "y": y})
        nx, ny = rk4(x, y, H)
        t = k * H
        if t > 20 and x < 0 <= nx:
            # Newton on the cubic Hermite interpolant of x between t and t+H.
            fx0, fx1 = y, ny  # dx/dt = y
            s = -x / (nx - x)
            for _ in range(20):
                h00 = 2 * s**3 - 3 * s**2 + 1
                h10 = s**3 - 2 * s**2 + s
                h01 = -2 * s**3 + 3 * s**2
                h11 = s**3 - s**2
                p = h00 * x + h10 * H * fx0 + h01 * nx + h11 * H * fx1
                dp = (6 * s**2 - 6 * s) * x + (3 * s**2 - 4 * s + 1) * H * fx0 + (-6 * s**2 + 6 * s) * nx + (3 * s**2 - 2 * s) * H * fx1
                s -= p / dp
            crossings.append(t + s * H)
        if t > 20:
            amp = max(amp, abs(x))
        x, y = nx, ny
    periods = [b - a for a, b in zip(crossings, crossings[1:])]
    print(json.dumps({"mu": MU, "h": H, "x0": [2.0, 0.0], "period": sum(periods) / len(periods),
                      "cycles": len(periods), "amplitude": amp, "states": states}, indent=1))


main()
