// The floor under any proxy on this machine: a node:http server that hands each request to the embedded sandbox
// through its Unix socket with undici, as the gateway does, and answers what comes back. No keys, no connection,
// no log, no retries: what one more HTTP hop costs by itself.
// Usage: node bench/bare-proxy.mjs <port> <sandbox socket path>
import { createServer } from 'node:http';
import { Agent } from 'undici';

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1, connect: { socketPath: process.argv[3] } });
const FORWARDED = ['content-type', 'authorization', 'idempotency-key', 'stripe-version'];
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const headers = {};
    for (const name of FORWARDED) if (req.headers[name]) headers[name] = req.headers[name];
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    let status = 502;
    const answer = {};
    const parts = [];
    agent.dispatch({ origin: 'http://localhost', path: req.url, method: req.method, headers, body }, {
      onRequestStart: () => undefined,
      onResponseStart: (_c, code, received) => {
        status = code;
        for (const k in received) if (!HOP_BY_HOP.has(k)) answer[k] = received[k];
      },
      onResponseData: (_c, chunk) => void parts.push(chunk),
      onResponseEnd: () => {
        res.writeHead(status, answer);
        res.end(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      },
      onResponseError: (_c, e) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_connection_error', message: e.message } }));
      },
    });
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
