import { SurrogateError } from '../errors.js';
import { checkOption, heavisideStep, type Surrogate } from './surrogate.js';

/*
 * The deterministic surrogates of snnTorch 0.9.4 (`snntorch.surrogate`), u = mem - threshold. Each derivative is the
 * formula in snnTorch's code, which in places differs from its docstrings (pinned by ../shared/golden/surrogates.json):
 *   atan(alpha=2):                 alpha/2 / (1 + (pi/2 * alpha * u)^2)
 *   fastSigmoid(slope=25):         1 / (slope*|u| + 1)^2
 *   sigmoid(slope=25):             slope * e^(-slope*u) / (e^(-slope*u) + 1)^2   (computed stably, see below)
 *   sparseFastSigmoid(slope=25,B=1): (u > B) / (slope*|u| + 1)^2
 *   triangular(threshold=1):       +threshold if u < 0, -threshold if u >= 0     (a sign step, not a triangle)
 *   straightThroughEstimator():    1
 *   heaviside():                   H(u) = (u > 0)                                 (equals the forward output)
 *   spikeRateEscape(beta=1,slope=25): slope * e^(-beta*|u - 1|)
 *   leakySpikeOperator(slope=0.1): 1 if u > 0 else slope                          (intended; snnTorch's LSO raises)
 */

/** ArcTan surrogate (snnTorch's default, alpha 2): dS/du = alpha/2 / (1 + (pi/2*alpha*u)^2). */
export function atan(options: { alpha?: number } = {}): Surrogate {
  const alpha = checkOption('atan', 'alpha', options.alpha ?? 2);
  const halfAlpha = alpha / 2;
  const c = (Math.PI / 2) * alpha;
  return {
    name: 'atan',
    options: { alpha },
    forward: heavisideStep,
    derivative: (u) => {
      const z = c * u;
      return halfAlpha / (1 + z * z);
    },
    antiderivative: (u) => Math.atan(c * u) / Math.PI,
    fused: { kind: 'atan', alpha },
  };
}

/** Fast sigmoid (SuperSpike), slope 25: dS/du = 1 / (slope*|u| + 1)^2. */
export function fastSigmoid(options: { slope?: number } = {}): Surrogate {
  const slope = checkOption('fastSigmoid', 'slope', options.slope ?? 25, 'positive');
  return {
    name: 'fastSigmoid',
    options: { slope },
    forward: heavisideStep,
    derivative: (u) => {
      const d = slope * Math.abs(u) + 1;
      return 1 / (d * d);
    },
    antiderivative: (u) => u / (1 + slope * Math.abs(u)),
    fused: { kind: 'fastSigmoid', slope },
  };
}

/**
 * Sigmoid, slope 25: dS/du = slope * e^(-slope*u) / (e^(-slope*u) + 1)^2 = slope * s * (1 - s), s = sigmoid(slope*u).
 * Computed as `slope * s * (1 - s)` with s evaluated on the non-overflowing side: snnTorch's float32 formula
 * underflows to 0 for u < ~-1.77 and gives NaN (inf/inf) for u < ~-3.55; this gives the finite, tiny true value.
 */
export function sigmoid(options: { slope?: number } = {}): Surrogate {
  const slope = checkOption('sigmoid', 'slope', options.slope ?? 25, 'positive');
  const logistic = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
  return {
    name: 'sigmoid',
    options: { slope },
    forward: heavisideStep,
    derivative: (u) => {
      const e = Math.exp(-slope * Math.abs(u));
      // s(1-s) = e / (1 + e)^2 for e = exp(-slope*|u|): symmetric in u and never overflows
      return (slope * e) / ((1 + e) * (1 + e));
    },
    antiderivative: (u) => logistic(slope * u),
  };
}

/** Sparse fast sigmoid (Perez-Nieves & Goodman 2021), slope 25, B 1: dS/du = (u > B) / (slope*|u| + 1)^2. */
export function sparseFastSigmoid(options: { slope?: number; B?: number } = {}): Surrogate {
  const slope = checkOption('sparseFastSigmoid', 'slope', options.slope ?? 25, 'positive');
  const B = checkOption('sparseFastSigmoid', 'B', options.B ?? 1);
  return {
    name: 'sparseFastSigmoid',
    options: { slope, B },
    forward: heavisideStep,
    derivative: (u) => {
      if (!(u > B)) return 0;
      const d = slope * Math.abs(u) + 1;
      return 1 / (d * d);
    },
    // u/(1 + slope|u|) above B, constant below: differentiable everywhere except at u = B
    antiderivative: (u) => (u > B ? u / (1 + slope * Math.abs(u)) : B / (1 + slope * Math.abs(B))),
  };
}

/** "Triangular" as coded: dS/du = +threshold for u < 0 and -threshold for u >= 0 (the derivative of -threshold*|u|). */
export function triangular(options: { threshold?: number } = {}): Surrogate {
  const threshold = checkOption('triangular', 'threshold', options.threshold ?? 1);
  return {
    name: 'triangular',
    options: { threshold },
    forward: heavisideStep,
    derivative: (u) => (u < 0 ? threshold : -threshold),
    antiderivative: (u) => -threshold * Math.abs(u),
  };
}

/** Straight-through estimator: dS/du = 1. */
export function straightThroughEstimator(): Surrogate {
  return {
    name: 'straightThroughEstimator',
    options: {},
    forward: heavisideStep,
    derivative: () => 1,
    antiderivative: (u) => u,
  };
}

/** Heaviside "surrogate": dS/du = H(u), i.e. the spike itself passes the gradient (snnTorch's `heaviside()`). */
export function heaviside(): Surrogate {
  return {
    name: 'heaviside',
    options: {},
    forward: heavisideStep,
    derivative: heavisideStep,
    antiderivative: (u) => (u > 0 ? u : 0),
  };
}

/** Spike-rate escape (Boltzmann), beta 1, slope 25: dS/du = slope * e^(-beta*|u - 1|). */
export function spikeRateEscape(options: { beta?: number; slope?: number } = {}): Surrogate {
  const beta = checkOption('spikeRateEscape', 'beta', options.beta ?? 1, 'positive');
  const slope = checkOption('spikeRateEscape', 'slope', options.slope ?? 25);
  const k = slope / beta;
  return {
    name: 'spikeRateEscape',
    options: { beta, slope },
    forward: heavisideStep,
    derivative: (u) => slope * Math.exp(-beta * Math.abs(u - 1)),
    antiderivative: (u) => (u < 1 ? k * Math.exp(beta * (u - 1)) : k * (2 - Math.exp(-beta * (u - 1)))),
  };
}

/**
 * Leaky spike operator, slope 0.1: dS/du = 1 where u > 0, `slope` elsewhere (the gradient of a threshold-shifted
 * leaky ReLU). This is the behaviour snnTorch's LSO documents; its code calls the stochastic operator with the wrong
 * arguments and raises a TypeError (golden `LSO_status`), so there is no upstream number to match.
 */
export function leakySpikeOperator(options: { slope?: number } = {}): Surrogate {
  const slope = checkOption('leakySpikeOperator', 'slope', options.slope ?? 0.1);
  return {
    name: 'leakySpikeOperator',
    options: { slope },
    forward: heavisideStep,
    derivative: (u) => (u > 0 ? 1 : slope),
    antiderivative: (u) => (u > 0 ? u : slope * u),
  };
}

/**
 * A user-defined surrogate (snnTorch `custom_surrogate`): `derivative(u, out)` gives dS/du at u, where `out` is the
 * forward output at u. `forward` defaults to the Heaviside step. snnTorch's custom function receives the incoming
 * gradient too; here the engine multiplies it in, so the function returns the local derivative only.
 */
export function custom(spec: {
  derivative: (u: number, out: number) => number;
  forward?: (u: number) => number;
  antiderivative?: (u: number) => number;
  options?: Readonly<Record<string, number>>;
}): Surrogate {
  if (typeof spec.derivative !== 'function') {
    throw new SurrogateError(
      'surrogate.custom (src/snn/surrogate): spec.derivative must be a function (u, out) => number',
    );
  }
  const forward = spec.forward ?? heavisideStep;
  const derivative = spec.derivative;
  return {
    name: 'custom',
    options: { ...(spec.options ?? {}) },
    forward,
    derivative: (u) => derivative(u, forward(u)),
    ...(spec.antiderivative ? { antiderivative: spec.antiderivative } : {}),
  };
}
