/**
 * Rate-limit windows are fixed (aligned on multiples of their length), so a run that
 * straddles a window's end would see its count reset: start in a fresh window when the
 * current one ends within `needSeconds`.
 */
export async function startInFreshWindow(
  windowSeconds: number,
  needSeconds: number,
): Promise<void> {
  const windowMs = windowSeconds * 1000
  const left = windowMs - (Date.now() % windowMs)
  if (left < needSeconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 250))
}
