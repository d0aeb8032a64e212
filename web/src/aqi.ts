// The six standard AQI levels (HJ 633-2012 / US EPA share the bounds 50/100/150/200/300) and the
// PM2.5 sub-index used when a station has no airQualityIndex yet.

export interface Band { max: number; key: string; color: string }
export const BANDS: Band[] = [
  { max: 50, key: 'aqi.good', color: '#00e400' },
  { max: 100, key: 'aqi.moderate', color: '#ffff00' },
  { max: 150, key: 'aqi.usg', color: '#ff7e00' },
  { max: 200, key: 'aqi.unhealthy', color: '#ff0000' },
  { max: 300, key: 'aqi.veryUnhealthy', color: '#99004c' },
  { max: Infinity, key: 'aqi.hazardous', color: '#7e0023' },
];
export const NO_DATA_COLOR = '#9e9e9e';

// PM2.5 (24 h, µg/m³) breakpoints of HJ 633-2012 against the index.
const PM25 = [0, 35, 75, 115, 150, 250, 350, 500];
const IAQI = [0, 50, 100, 150, 200, 300, 400, 500];

export function pm25Index(pm25: number): number {
  if (pm25 <= 0) return 0;
  for (let i = 1; i < PM25.length; i++) {
    if (pm25 <= PM25[i]) return Math.round(IAQI[i - 1] + ((IAQI[i] - IAQI[i - 1]) * (pm25 - PM25[i - 1])) / (PM25[i] - PM25[i - 1]));
  }
  return 500;
}

// The index of a station: its airQualityIndex, else computed from pm25; undefined without either.
export function stationIndex(attrs: Record<string, unknown>): number | undefined {
  const aqi = attrs.airQualityIndex;
  if (typeof aqi === 'number' && Number.isFinite(aqi)) return aqi;
  const pm25 = attrs.pm25;
  if (typeof pm25 === 'number' && Number.isFinite(pm25)) return pm25Index(pm25);
  return undefined;
}

export function band(index: number | undefined): Band | undefined {
  return index === undefined ? undefined : BANDS.find(b => index <= b.max);
}
export function bandColor(index: number | undefined): string { return band(index)?.color ?? NO_DATA_COLOR; }
