import { WebSocketServer } from 'ws'
import http from 'node:http'
const server = http.createServer()
const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false })
server.on('upgrade', (req, socket, head) =>
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', (e) => {
      console.log('ws error', e.message, e.code)
      ws.terminate()
    })
    ws.on('message', () => undefined)
    ws.on('close', (c) => console.log('close', c))
    ws.send('hello')
  }),
)
server.listen(47999)
