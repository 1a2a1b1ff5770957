// The ceiling: a bare node:http server answering every request with a fixed JSON body.
import { createServer } from 'node:http';

const body = JSON.stringify({ id: 'cus_fixed', object: 'customer', email: 'bench@example.com', livemode: false, metadata: {} });
createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
