// Every request the console makes: to the CityTwin server that served it (same origin), never elsewhere.

export const NGSI = '/ngsi-ld/v1';
export const CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
const SDM_BASE = 'https://smartdatamodels.org/';
const SDM_CONTEXT = (model: string) =>
  `https://raw.githubusercontent.com/smart-data-models/${model}/master/context.jsonld`;
export const ALERT_TYPE = 'https://smartdatamodels.org/dataModel.Alert/Alert';
export const ALERT_CONTEXT = SDM_CONTEXT('dataModel.Alert');
const DEFAULT_VOCAB = 'https://uri.etsi.org/ngsi-ld/default-context/';

export interface Problem { type?: string; title?: string; status?: number; detail?: string }

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Entity = { id: string; type: string; [attr: string]: Json };

let tenant = '';
export function setTenant(t: string): void { tenant = t; }
export function currentTenant(): string { return tenant; }

// The Smart Data Model @context for a type IRI (https://smartdatamodels.org/dataModel.X/Type), so
// attributes come back as the model's short terms; the core context (default vocabulary) otherwise.
export function contextForType(typeIri: string): string | undefined {
  if (!typeIri.startsWith(SDM_BASE)) return undefined;
  const model = typeIri.slice(SDM_BASE.length).split('/')[0];
  return model.startsWith('dataModel.') ? SDM_CONTEXT(model) : undefined;
}

// A type as the core @context compacts it ("Incident"), as the full IRI /types names it.
export function typeIri(type: string): string { return /^[a-z][a-z0-9+.-]*:/i.test(type) ? type : `${DEFAULT_VOCAB}${type}`; }

// A short name for display when a term still comes back as an IRI.
export function shortName(term: string): string {
  if (!/^https?:\/\//.test(term)) return term;
  const cut = Math.max(term.lastIndexOf('/'), term.lastIndexOf('#'));
  return cut >= 0 ? term.slice(cut + 1) : term;
}

// Both ways a type may be stored: with the default vocabulary or as its Smart Data Model IRI.
export function typeAlternatives(short: string, model: string): string {
  return `${DEFAULT_VOCAB}${short},${SDM_BASE}${model}/${short}`;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  link?: string;
  accept?: string;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<{ body: T; headers: Headers }> {
  const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
  if (tenant) headers['NGSILD-Tenant'] = tenant;
  if (options.link) headers.Link = `<${options.link}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(path, { method: options.method ?? 'GET', headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  if (!response.ok) {
    const problem = (parsed && typeof parsed === 'object' ? parsed : { detail: String(parsed ?? response.statusText) }) as Problem;
    throw new ApiError(response.status, problem);
  }
  return { body: parsed as T, headers: response.headers };
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await request<T>(path, options)).body;
}

export function qs(params: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') parts.push(`${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

// Every entity a query matches: the first page with its count, then the other pages at once (1000
// at a time, the server's largest page).
export async function queryAll<T = Entity>(params: Record<string, string | undefined>, link?: string, accept?: string): Promise<T[]> {
  const PAGE = 1000;
  const items = (page: unknown): T[] => (accept === 'application/geo+json' ? (page as { features: T[] }).features : (page as T[])) ?? [];
  const first = await request<unknown>(`${NGSI}/entities${qs({ ...params, limit: PAGE, count: 'true' })}`, { link, accept });
  const out = items(first.body);
  const total = Number(first.headers.get('NGSILD-Results-Count') ?? out.length);
  if (out.length < PAGE || total <= PAGE) return out;
  const rest = [];
  for (let offset = PAGE; offset < total; offset += PAGE)
    rest.push(api<unknown>(`${NGSI}/entities${qs({ ...params, limit: PAGE, offset })}`, { link, accept }).then(items));
  for (const page of await Promise.all(rest)) out.push(...page);
  return out;
}

// A keyValues value as text: DateTime objects, GeoJSON and lists made readable.
export function plainValue(v: Json): Json {
  if (v && typeof v === 'object' && !Array.isArray(v) && '@value' in v) return v['@value'] as Json;
  return v;
}
