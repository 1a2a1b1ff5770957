// Worker-thread entry of the embedded sandbox (see sandbox-thread.ts). Plain
// JavaScript, because the worker must register tsx before loading TypeScript.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { startSandbox } = await import('../sandbox/index.ts');
try {
  const sandbox = await startSandbox(workerData);
  parentPort.postMessage({ url: sandbox.url, port: sandbox.port });
  parentPort.on('message', async (message) => {
    if (message?.trust) {
      sandbox.trustOrigin(message.trust);
      parentPort.postMessage({ trusted: message.trust });
      return;
    }
    if (message !== 'close') return;
    await sandbox.close();
    parentPort.postMessage({ closed: true });
    parentPort.close();
  });
} catch (e) {
  parentPort.postMessage({ error: e instanceof Error ? e.message : String(e) });
}
