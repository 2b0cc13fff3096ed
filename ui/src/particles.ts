/**
 * Particles flowing along the graph's edges for each verified message, and
 * a red ring flashing on the claimed sender of each rejection. Drawn on a
 * transparent canvas laid over the network canvas, so that a moving dot
 * repaints only itself and never forces vis-network to redraw the whole
 * graph. Rate-capped: at most `MAX_PER_SECOND` new particles a second and
 * `MAX_ALIVE` at once; the animation loop runs only while something moves.
 */

/** How long a particle takes along its edge (ms). */
export const PARTICLE_MS = 900
/** How long a rejection ring flashes (ms). */
export const FLASH_MS = 1200
/** Most particles started per second (token bucket). */
export const MAX_PER_SECOND = 40
/** Most particles alive at once. */
export const MAX_ALIVE = 80
/** Shortest time between two drawn frames (ms): 30 frames a second is smooth for dots and halves the cost. */
export const FRAME_MS = 32

/** Where an agent is drawn, in CSS pixels of the overlay (undefined when it is not drawn). */
export type PositionOf = (did: string) => { x: number; y: number } | undefined

interface Particle {
  readonly from: string
  readonly to: string
  readonly start: number
}

interface Flash {
  readonly did: string
  readonly start: number
}

/** The overlay that draws particles and flashes. */
export class ParticleLayer {
  private particles: Particle[] = []
  private flashes: Flash[] = []
  private tokens = MAX_PER_SECOND
  private refilled = performance.now()
  private frame: number | undefined
  private drawnAt = 0
  private readonly ctx: CanvasRenderingContext2D | null

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly position: PositionOf,
    private readonly colors: { particle: string; rejected: string },
  ) {
    this.ctx = canvas.getContext('2d', { desynchronized: true })
  }

  /** Particles and flashes currently on screen. */
  get active(): number {
    return this.particles.length + this.flashes.length
  }

  /** Start a particle from `from` to `to`, `delay` ms from now (dropped above the rate cap). */
  spawn(from: string, to: string, delay = 0): void {
    const now = performance.now()
    this.tokens = Math.min(MAX_PER_SECOND, this.tokens + ((now - this.refilled) / 1000) * MAX_PER_SECOND)
    this.refilled = now
    if (this.tokens < 1 || this.particles.length >= MAX_ALIVE) return
    this.tokens -= 1
    this.particles.push({ from, to, start: now + delay })
    this.run()
  }

  /** Flash a red ring on an agent (the claimed sender of a rejection). */
  flash(did: string): void {
    if (this.flashes.some((f) => f.did === did)) return
    this.flashes.push({ did, start: performance.now() })
    this.run()
  }

  /** Match the canvas to its box (device pixels). */
  resize(): void {
    const dpr = window.devicePixelRatio || 1
    const w = Math.round(this.canvas.clientWidth * dpr)
    const h = Math.round(this.canvas.clientHeight * dpr)
    if (this.canvas.width !== w) this.canvas.width = w
    if (this.canvas.height !== h) this.canvas.height = h
  }

  /** Stop the animation for good. */
  stop(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame)
    this.frame = undefined
    this.particles = []
    this.flashes = []
  }

  private run(): void {
    this.frame ??= requestAnimationFrame((t) => this.draw(t))
  }

  private draw(now: number): void {
    this.frame = undefined
    const ctx = this.ctx
    if (ctx === null) return
    if (now - this.drawnAt < FRAME_MS) return this.run()
    this.drawnAt = now
    const dpr = window.devicePixelRatio || 1
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height)
    this.particles = this.particles.filter((p) => now - p.start < PARTICLE_MS)
    this.flashes = this.flashes.filter((f) => now - f.start < FLASH_MS)
    for (const p of this.particles) this.drawParticle(ctx, p, now)
    for (const f of this.flashes) this.drawFlash(ctx, f, now)
    if (this.active > 0) this.run()
  }

  private drawParticle(ctx: CanvasRenderingContext2D, p: Particle, now: number): void {
    const t = (now - p.start) / PARTICLE_MS
    if (t < 0) return
    const a = this.position(p.from)
    const b = this.position(p.to)
    if (a === undefined || b === undefined) return
    ctx.fillStyle = this.colors.particle
    for (const [lag, r, alpha] of [
      [0, 4, 1],
      [0.06, 3, 0.5],
      [0.12, 2, 0.25],
    ] as const) {
      const s = Math.max(0, t - lag)
      ctx.globalAlpha = alpha
      ctx.beginPath()
      ctx.arc(a.x + (b.x - a.x) * s, a.y + (b.y - a.y) * s, r, 0, Math.PI * 2)
      ctx.fill()
    }
    ctx.globalAlpha = 1
  }

  private drawFlash(ctx: CanvasRenderingContext2D, f: Flash, now: number): void {
    const at = this.position(f.did)
    if (at === undefined) return
    const t = (now - f.start) / FLASH_MS
    ctx.strokeStyle = this.colors.rejected
    ctx.globalAlpha = 1 - t
    ctx.lineWidth = 4
    ctx.beginPath()
    ctx.arc(at.x, at.y, 14 + t * 26, 0, Math.PI * 2)
    ctx.stroke()
    ctx.globalAlpha = 1
  }
}
