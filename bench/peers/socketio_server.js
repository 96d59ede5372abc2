// The chat workload on Socket.IO 4, as its users write it: `join` puts the socket in a room, `send`
// emits `message` to the room (the sender included), `peers` answers at once. Every reply is an ack.
// With REDIS_URL set, rooms span nodes through @socket.io/redis-adapter.
//
//   PORT=0 [REDIS_URL=redis://127.0.0.1:6379] node socketio_server.js   prints "listening on HOST:PORT"
'use strict';
const { createServer } = require('http');
const { Server } = require('socket.io');

async function main() {
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: ['websocket'],  // loadgen speaks Engine.IO over a plain WebSocket
    serveClient: false,
    perMessageDeflate: false,
    maxHttpBufferSize: 1 << 20,
  });
  if (process.env.REDIS_URL) {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  io.on('connection', (socket) => {
    const name = String(socket.handshake.query.name || socket.id);
    socket.on('join', (d, ack) => {
      socket.join(d.room);
      const members = io.sockets.adapter.rooms.get(d.room);
      if (ack) ack({ ok: true, members: members ? members.size : 0 });
    });
    socket.on('send', (d, ack) => {
      io.to(d.room).emit('message', { room: d.room, text: d.text, from: name });
      if (ack) ack({ id: '' });
    });
    socket.on('peers', (d, ack) => {
      if (ack) ack({ peers: [] });
    });
  });
  httpServer.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
