/**
 * Stripe.js in the sandbox (issue 19): the script's size, and how long the
 * first Element takes to be ready on loopback — from the page's navigation
 * start to the Card Element's `ready` event, in Debian's Chromium, the median
 * of `--runs` fresh pages (default 15), the first, cold, reported apart.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandbox } from '../src/sandbox/index.js';
import { launch } from '../test/browser/browser.js';
import { median } from './harness.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const sandbox = await startSandbox({ port: 0 });
const page = `<!doctype html><script src="${sandbox.url}/v3/"></script><div id="card"></div><script>
  const card = Stripe('pk_test_bench').elements().create('card');
  card.on('ready', () => { window.readyAt = performance.now(); });
  card.mount('#card');
</script>`;
const site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
const script = await (await fetch(`${sandbox.url}/v3/`)).text();
const browser = await launch();
const times: number[] = [];
for (let i = 0; i < runs + 1; i++) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(url);
  await tab.waitForFunction(() => (window as unknown as { readyAt?: number }).readyAt !== undefined);
  times.push(await tab.evaluate(() => (window as unknown as { readyAt: number }).readyAt));
  await context.close();
}
await browser.close();
site.close();
await sandbox.close();
const [cold, ...warm] = times;
console.log('| measure | value |\n|---|---|');
console.log(`| script size | ${(Buffer.byteLength(script) / 1024).toFixed(1)} KB (target < 100 KB) |`);
console.log(`| first Element ready, cold page | ${cold.toFixed(0)} ms |`);
console.log(`| first Element ready, median of ${runs} fresh pages | ${median(warm).toFixed(0)} ms (target ≤ 300 ms) |`);
console.log(`| slowest of those | ${Math.max(...warm).toFixed(0)} ms |`);
