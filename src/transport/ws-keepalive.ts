import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Pings every socket each `intervalMs` with one shared timer; a socket that has not answered the previous ping by
 * the next round is terminated (a dead peer or a half-open connection). Returns the function that stops it.
 */
export function keepSocketsAlive(wss: WebSocketServer, intervalMs: number): () => void {
  const awaitingPong = new WeakSet<WebSocket>();
  function answered(this: WebSocket): void {
    awaitingPong.delete(this);
  }
  const onConnection = (socket: WebSocket) => socket.on('pong', answered);
  wss.on('connection', onConnection);
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      if (socket.readyState !== socket.OPEN) continue;
      awaitingPong.add(socket);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
