/**
 * Test preload: `localhost` resolves as on a stock Debian/Ubuntu/Fedora/macOS
 * host, whose /etc/hosts maps it to ::1 as well as 127.0.0.1 (getaddrinfo
 * gives ::1 first). The review's sandbox maps it to 127.0.0.1 only.
 */
// a --require preload is CommonJS
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dns = require('node:dns')
const original = dns.lookup
dns.lookup = function lookup(host, opts, cb) {
  if (typeof opts === 'function') {
    cb = opts
    opts = {}
  }
  if (typeof opts === 'number') opts = { family: opts }
  opts = opts || {}
  if (String(host).toLowerCase() !== 'localhost') return original.call(this, host, opts, cb)
  const all = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ].filter((a) => !opts.family || a.family === opts.family)
  process.nextTick(() => (opts.all ? cb(null, all) : cb(null, all[0].address, all[0].family)))
}
