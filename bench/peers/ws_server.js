// The chat workload on a plain `ws` server, speaking the superline.v1 frames loadgen's `json`
// protocol uses: `join`, `send` (broadcast `message` to the room, the sender included) and `peers`.
// A broadcast is serialized once and the same Buffer is sent to every member, as a careful `ws`
// application does.
//
//   PORT=0 node ws_server.js   prints "listening on HOST:PORT"
'use strict';
const { WebSocketServer } = require('ws');

const rooms = new Map();  // name -> Set of sockets
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.PORT || 0),
  perMessageDeflate: false,
  maxPayload: 1 << 20,
  handleProtocols: (protocols) => (protocols.has('superline.v1') ? 'superline.v1' : false),
});

wss.on('listening', () => console.log(`listening on 127.0.0.1:${wss.address().port}`));
wss.on('connection', (ws, req) => {
  const name = new URL(req.url, 'http://localhost').searchParams.get('name') || '';
  const joined = new Set();
  ws.send('{"t":"env","d":null}');
  ws.on('message', (data) => {
    let f;
    try {
      f = JSON.parse(data);
    } catch (e) {
      ws.send('{"t":"err","code":"BAD_REQUEST","m":"malformed frame"}');
      return;
    }
    if (f.t !== 'req') return;
    const d = f.d || {};
    let reply;
    if (f.m === 'join') {
      let room = rooms.get(d.room);
      if (!room) rooms.set(d.room, (room = new Set()));
      room.add(ws);
      joined.add(d.room);
      reply = { ok: true, members: room.size };
    } else if (f.m === 'send') {
      const frame = Buffer.from(JSON.stringify({ t: 'evt', e: 'message', d: { room: d.room, text: d.text, from: name } }));
      for (const member of rooms.get(d.room) || []) member.send(frame, { binary: false });
      reply = { id: '' };
    } else if (f.m === 'peers') {
      reply = { peers: [] };
    } else {
      ws.send(JSON.stringify({ t: 'err', i: f.i, code: 'NOT_FOUND', m: 'Unknown message: ' + f.m }));
      return;
    }
    ws.send(JSON.stringify({ t: 'res', i: f.i, d: reply }));
  });
  ws.on('close', () => {
    for (const name of joined) rooms.get(name)?.delete(ws);
  });
});
