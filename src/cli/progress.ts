import { SingleBar, Presets } from 'cli-progress';
import type { RunEvent } from '../experiment/runner.js';

/**
 * Terminal progress: a bar per model with ETA, loss and the latest test accuracy on a TTY; one line per evaluation
 * and epoch otherwise (CI logs, pipes).
 */
export function progressReporter(
  stream: NodeJS.WriteStream,
  enabled: boolean,
): { onEvent: (e: RunEvent) => void; stop: () => void } {
  const tty = enabled && stream.isTTY;
  let bar: SingleBar | null = null;
  let acc = '  —  ';
  const onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case 'model-start':
        if (tty) {
          bar = new SingleBar(
            {
              format: `${e.kind.toUpperCase()} {bar} {value}/{total} it | ETA {eta_formatted} | loss {loss} | test acc {acc}`,
              stream,
              hideCursor: true,
              etaBuffer: 50,
            },
            Presets.shades_classic,
          );
          bar.start(e.epochs * e.itersPerEpoch, e.startIter, { loss: '—', acc });
        } else {
          stream.write(
            `${e.kind.toUpperCase()}: ${e.epochs} epoch(s) of ${e.itersPerEpoch} iterations${e.startIter ? `, resuming at iteration ${e.startIter}` : ''}\n`,
          );
        }
        break;
      case 'iteration':
        bar?.update(e.record.iter, { loss: e.record.loss.toFixed(4), acc });
        break;
      case 'eval':
        acc = `${(e.record.testAccuracy * 100).toFixed(2)}%`;
        if (!tty)
          stream.write(
            `  ${e.kind} iter ${e.record.iter}: test accuracy ${acc}, test loss ${e.record.testLoss.toFixed(4)}\n`,
          );
        else bar?.update({ acc });
        break;
      case 'epoch':
        if (!tty)
          stream.write(
            `  ${e.kind} epoch ${e.record.epoch}: ${e.record.trainTimeS.toFixed(1)} s training, ${e.record.evalTimeS.toFixed(1)} s evaluation, test accuracy ${(e.record.testAccuracy * 100).toFixed(2)}%\n`,
          );
        break;
      case 'model-end':
        if (bar) {
          bar.stop();
          bar = null;
        }
        acc = '  —  ';
        break;
    }
  };
  return { onEvent, stop: () => bar?.stop() };
}
