/** Copy buttons: one way to copy a text and say so for a moment. */
import type { Ref } from 'vue'

/** How long a copy button says "Copied", in ms. */
export const COPIED_MS = 1500

/** Copy `text` to the clipboard and set `copied` for `COPIED_MS` (false when the browser refuses). */
export async function copyText(text: string, copied: Ref<boolean>): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    copied.value = true
    setTimeout(() => (copied.value = false), COPIED_MS)
  } catch {
    copied.value = false
  }
}
