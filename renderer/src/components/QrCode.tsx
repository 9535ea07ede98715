import { encodeQr } from './qr-encode'

/**
 * A QR code of a value (the record's final digest), drawn as SVG rects: no image, no inline script,
 * nothing the CSP has to allow. Error correction M; the value is plain ASCII hex.
 */
export function QrCode({ value, label, size = 132 }: { value: string; label: string; size?: number }): React.JSX.Element {
  const modules = encodeQr(value)
  const n = modules.length
  const quiet = 4
  const cells: React.JSX.Element[] = []
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (modules[r]![c]) cells.push(<rect key={`${r}-${c}`} x={c + quiet} y={r + quiet} width={1} height={1} />)
  }
  return (
    <svg className="qr" role="img" aria-label={label} width={size} height={size} viewBox={`0 0 ${n + 2 * quiet} ${n + 2 * quiet}`} shapeRendering="crispEdges" data-testid="qr-code" data-modules={n}>
      <rect width="100%" height="100%" fill="#fff" />
      <g fill="#000">{cells}</g>
    </svg>
  )
}
