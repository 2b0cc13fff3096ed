/**
 * Sound on signing: a short high tone for each verified message and a low,
 * rougher one for each rejection, made with WebAudio oscillators (nothing is
 * fetched). Off by default; the choice is remembered in localStorage. At
 * most `MAX_TONES_PER_SECOND` tones, so a busy mesh hums instead of roaring.
 */

/** localStorage key of the sound toggle. */
export const SOUND_KEY = 'meshsig.sound'
/** Most tones played per second. */
export const MAX_TONES_PER_SECOND = 6

/** What a tone stands for. */
export type Tone = 'verified' | 'rejected'

const TONES: Record<Tone, { type: OscillatorType; freq: number; ms: number; gain: number }> = {
  verified: { type: 'sine', freq: 880, ms: 70, gain: 0.05 },
  rejected: { type: 'square', freq: 196, ms: 180, gain: 0.04 },
}

/** The remembered choice (off unless the user turned it on). */
export function soundPreference(): boolean {
  try {
    return window.localStorage.getItem(SOUND_KEY) === 'on'
  } catch {
    return false
  }
}

/** Remember the choice. */
export function rememberSound(on: boolean): void {
  try {
    window.localStorage.setItem(SOUND_KEY, on ? 'on' : 'off')
  } catch {
    // private mode: the toggle still works for this page
  }
}

/** Plays tones while enabled; the AudioContext is made on the first enable (a user gesture). */
export class SoundBoard {
  private ctx: AudioContext | undefined
  private played: number[] = []
  enabled = false

  /** Turn sound on or off (call from a click so that browsers allow audio). */
  setEnabled(on: boolean): void {
    this.enabled = on
    if (!on) return
    try {
      this.ctx ??= new AudioContext()
      void this.ctx.resume().catch(() => undefined)
    } catch {
      this.enabled = false
    }
  }

  /** Play one tone (skipped when off or above the rate cap). */
  play(tone: Tone): void {
    const ctx = this.ctx
    if (!this.enabled || ctx === undefined || ctx.state !== 'running') return
    const now = performance.now()
    this.played = this.played.filter((t) => now - t < 1000)
    if (this.played.length >= MAX_TONES_PER_SECOND) return
    this.played.push(now)
    const spec = TONES[tone]
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    osc.type = spec.type
    osc.frequency.value = spec.freq
    const t0 = ctx.currentTime
    gain.gain.setValueAtTime(spec.gain, t0)
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + spec.ms / 1000)
    osc.connect(gain).connect(ctx.destination)
    osc.start(t0)
    osc.stop(t0 + spec.ms / 1000 + 0.02)
  }

  /** Release the audio device. */
  close(): void {
    void this.ctx?.close().catch(() => undefined)
    this.ctx = undefined
  }
}
