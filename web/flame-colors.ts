/**
 * Frame colours. Hue says the frame's kind (kernel / native / interpreted, from the
 * `profile.frame.type` attribute), a small shift of lightness and hue derived from the name tells
 * neighbours apart; all are light enough for dark text. A diff paints growth of a frame's share
 * red and shrinkage green.
 */

export type FrameKind = 'kernel' | 'native' | 'interpreted' | 'unknown';

export const FRAME_KINDS: readonly FrameKind[] = ['kernel', 'native', 'interpreted', 'unknown'];

/** Base hue, saturation per kind. */
const KIND_HUE: Record<FrameKind, readonly [number, number]> = {
  kernel: [24, 85],
  native: [205, 70],
  interpreted: [105, 50],
  unknown: [0, 0],
};

/** Legend swatch colour of a kind. */
export function kindColor(kind: FrameKind): string {
  const [hue, saturation] = KIND_HUE[kind];
  return `hsl(${hue} ${saturation}% 68%)`;
}

export function frameKind(frameType: string): FrameKind {
  switch (frameType) {
    case 'kernel':
      return 'kernel';
    case 'native':
      return 'native';
    case '':
    case 'unknown':
      return 'unknown';
    default:
      return 'interpreted';
  }
}

function nameHash(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

export function frameColor(name: string, frameType: string): string {
  const [hue, saturation] = KIND_HUE[frameKind(frameType)];
  const h = nameHash(name);
  return `hsl(${(hue + (h - 0.5) * 24).toFixed(0)} ${saturation}% ${(62 + h * 16).toFixed(0)}%)`;
}

/** Neutral grey for frames whose share did not move. */
export const DIFF_NEUTRAL = 'hsl(0 0% 84%)';
/** Share changes below this (fraction of the root) stay neutral: sampling noise. */
const DIFF_NOISE = 0.001;

/**
 * `delta` = share in B minus share in A; `scale` = the largest |delta| in the tree, so the
 * strongest change gets the strongest colour. Frames present on one side only are full colour.
 */
export function diffColor(delta: number, scale: number, onlyOneSide: boolean): string {
  if (!onlyOneSide && Math.abs(delta) < DIFF_NOISE) return DIFF_NEUTRAL;
  const strength = onlyOneSide ? 1 : Math.min(1, Math.abs(delta) / Math.max(scale, DIFF_NOISE));
  const lightness = (84 - strength * 30).toFixed(0);
  return delta > 0 ? `hsl(0 78% ${lightness}%)` : `hsl(135 55% ${lightness}%)`;
}
