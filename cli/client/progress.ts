/**
 * Progress of a transfer: a bar redrawn in place when stdout is a terminal, otherwise a plain
 * line now and then (every 25%, or every 10 seconds), so logs stay readable.
 */

export interface Progress {
  /** Adds to what is done. */
  add(count: number, bytes: number): void
  /** Raises the totals (more work found). */
  grow(count: number, bytes?: number): void
  finish(): void
}

export interface ProgressTotals {
  /** Items (blobs); omitted for a single transfer. */
  count?: number
  /** Bytes, when known. */
  bytes?: number
}

const WIDTH = 28

export function startProgress(label: string, totals: ProgressTotals): Progress {
  const tty = Boolean(process.stdout.isTTY)
  let count = 0
  let bytes = 0
  let totalCount = totals.count
  let totalBytes = totals.bytes
  let lastDraw = 0
  let lastQuarter = 0
  let lastLine = ''
  let finished = false

  const fraction = (): number | null => {
    if (totalBytes) return Math.min(1, bytes / totalBytes)
    if (totalCount) return Math.min(1, count / totalCount)
    return null
  }
  const text = (): string => {
    const parts = [label]
    if (totalCount !== undefined) parts.push(`${count}/${totalCount}`)
    parts.push(
      totalBytes ? `${formatBytes(bytes)} / ${formatBytes(totalBytes)}` : formatBytes(bytes),
    )
    return parts.join('  ')
  }
  const draw = (force: boolean): void => {
    const now = Date.now()
    const f = fraction()
    if (tty) {
      if (!force && now - lastDraw < 100) return
      const bar =
        f === null
          ? ''
          : `[${'#'.repeat(Math.round(f * WIDTH)).padEnd(WIDTH, '.')}] ${Math.floor(f * 100)
              .toString()
              .padStart(3)}%  `
      process.stdout.write(`\r\x1b[2K${bar}${text()}`)
    } else {
      const quarter = f === null ? 0 : Math.floor(f * 4)
      if (!force && quarter <= lastQuarter && now - lastDraw < 10_000) return
      lastQuarter = quarter
      const line = text()
      if (line === lastLine) return
      lastLine = line
      process.stdout.write(`${line}\n`)
    }
    lastDraw = now
  }
  if (!tty) lastDraw = Date.now()
  else draw(true)
  return {
    add(n, b) {
      count += n
      bytes += b
      draw(false)
    },
    grow(n, b) {
      totalCount = (totalCount ?? 0) + n
      if (b !== undefined) totalBytes = (totalBytes ?? 0) + b
    },
    finish() {
      if (finished) return
      finished = true
      draw(true)
      if (tty) process.stdout.write('\n')
    },
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

/** Counts the bytes of a stream as they pass. */
export function meter(
  stream: ReadableStream<Uint8Array>,
  onBytes: (n: number) => void,
): ReadableStream<Uint8Array> {
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onBytes(chunk.byteLength)
        controller.enqueue(chunk)
      },
    }),
  )
}
