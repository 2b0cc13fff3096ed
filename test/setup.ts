// Loaded before every test file: the same polyfills every entry point loads first.
import '../node/polyfill.js'
