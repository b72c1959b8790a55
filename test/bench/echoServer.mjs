// The RPC benchmark's baseline: a bare `ws` server in its own process that parses each frame as
// JSON and answers a stringified JSON-RPC result. Prints its port on stdout.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const req = JSON.parse(data.toString());
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { time: new Date().toISOString() } }));
  });
});
wss.on('listening', () => console.log(wss.address().port));
