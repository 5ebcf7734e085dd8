/**
 * A typed client for the Masthead content API.
 *
 * The types (`./schema.ts`) are generated from `openapi/openapi.json` by openapi-typescript
 * (`make clients`); this file is the thin layer over openapi-fetch that a frontend wants on
 * top: typed default shapes, an async iterator that follows cursors, ETag revalidation
 * (`If-None-Match`, a 304 answers the cached value), `ProblemError` for RFC 9457 problems, and
 * retries on 429 and 503 that honour `Retry-After` within a bounded budget.
 */
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
/** One article or page, as `GET /v1/articles/{slug}` answers it by default. */
export type Article = Schemas["Article"];
/** An article in a list (no body; tags and authors embedded). */
export type ArticleSummary = Schemas["ArticleSummary"];
/** A sparse article (`fields=` or `include=`): only `id` is sure to be there. */
export type ArticlePartial = Schemas["ArticlePartial"];
export type ArticleList = Schemas["ArticleList"];
export type ArticlePartialList = Schemas["ArticlePartialList"];
export type Tag = Schemas["Tag"];
export type Source = Schemas["Source"];
export type Action = Schemas["Action"];
export type Author = Schemas["Author"];
export type Site = Schemas["Site"];
export type SearchHit = Schemas["SearchHit"];
export type Problem = Schemas["Problem"];

type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } }
  ? NonNullable<Q>
  : never;
/** A list's query without the parameters that change its shape. */
type Exact<Q> = Omit<Q, "fields" | "include"> & { fields?: undefined; include?: undefined };
type Sparse<Q> = Q & ({ fields: string } | { include: string });
type Page<T> = { data: T[]; meta: { next_cursor: string | null } };

/** An RFC 9457 problem the API answered with (any 4xx or 5xx). */
export class ProblemError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(`${status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.name = "ProblemError";
    this.status = status;
    this.problem = problem;
  }
}

export interface RetryOptions {
  /** Most tries of one request, the first included (default 4). */
  attempts?: number;
  /** Most time spent waiting between the tries of one request, in ms (default 10000). */
  budgetMs?: number;
  /** Longest single wait, in ms (default 5000): a longer `Retry-After` is not waited for. */
  maxDelayMs?: number;
}

export interface MastheadOptions {
  /** The API's origin, e.g. `https://api.example.org`. */
  baseUrl: string;
  /** An editorial token, sent as `Authorization: Bearer …` (the admin API). */
  token?: string;
  /** A content key, sent as `X-Masthead-Key` (when the deployment requires one). */
  contentKey?: string;
  /** Retries on 429 and 503; `false` for none. */
  retry?: RetryOptions | false;
  /** How many GET answers to keep for ETag revalidation (default 256; 0 for none). */
  cacheEntries?: number;
  /** The fetch to use (default: the global one). */
  fetch?: (input: Request) => Promise<Response>;
  /** How to wait (default: a timer); tests pass their own. */
  sleep?: (ms: number) => Promise<void>;
}

const RETRIED = new Set([429, 503]);

/** `Retry-After` in ms (delta-seconds or an HTTP date), or undefined when absent or bad. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

interface Cached {
  etag: string;
  body: string;
  headers: [string, string][];
}

/** fetch with retries and ETag revalidation: what openapi-fetch sends requests through. */
export function revalidatingFetch(options: MastheadOptions): (input: Request) => Promise<Response> {
  const send = options.fetch ?? ((input: Request) => globalThis.fetch(input));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const retry = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
  const attempts = Math.max(1, retry.attempts ?? 4);
  const budgetMs = retry.budgetMs ?? 10_000;
  const maxDelayMs = retry.maxDelayMs ?? 5_000;
  const capacity = options.cacheEntries ?? 256;
  const cache = new Map<string, Cached>();

  async function withRetries(request: Request): Promise<Response> {
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const response = await send(request.clone());
      if (!RETRIED.has(response.status) || attempt >= attempts) return response;
      const delay = retryAfterMs(response.headers.get("retry-after")) ?? 250 * 2 ** (attempt - 1);
      if (delay > maxDelayMs || waited + delay > budgetMs) return response; // over budget
      await response.body?.cancel();
      await sleep(delay);
      waited += delay;
    }
  }

  return async (request: Request): Promise<Response> => {
    const key = request.url;
    const cached = request.method === "GET" && capacity > 0 ? cache.get(key) : undefined;
    if (cached !== undefined && !request.headers.has("if-none-match")) {
      request.headers.set("If-None-Match", cached.etag);
    }
    const response = await withRetries(request);
    if (response.status === 304 && cached !== undefined) {
      cache.delete(key); // most recently used last
      cache.set(key, cached);
      return new Response(cached.body, { status: 200, headers: cached.headers });
    }
    const etag = response.headers.get("etag");
    if (request.method === "GET" && capacity > 0 && response.status === 200 && etag !== null) {
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => {
        if (name !== "content-encoding" && name !== "content-length") headers.push([name, value]);
      });
      cache.delete(key);
      cache.set(key, { etag, body: await response.clone().text(), headers });
      while (cache.size > capacity) cache.delete(cache.keys().next().value as string);
    }
    return response;
  };
}

function problemOf(status: number, error: unknown): ProblemError {
  if (typeof error === "object" && error !== null && "title" in error && "status" in error) {
    return new ProblemError(status, error as Problem);
  }
  const detail = typeof error === "string" ? error : "The answer was not a problem document.";
  return new ProblemError(status, { type: "about:blank", title: "Error", status, detail });
}

async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || data === undefined) throw problemOf(response.status, error);
  return data;
}

/** Every item of a list, page after page, following `meta.next_cursor`. */
export async function* follow<T>(page: (cursor?: string) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const current = await page(cursor);
    yield* current.data;
    cursor = current.meta.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

export type Masthead = ReturnType<typeof createMasthead>;

export function createMasthead(options: MastheadOptions) {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.contentKey !== undefined) headers["X-Masthead-Key"] = options.contentKey;
  const raw: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ""),
    fetch: revalidatingFetch(options),
    headers,
  });

  type ArticleQuery = Query<"/v1/articles">;
  function listArticles(query?: Exact<ArticleQuery>): Promise<ArticleList>;
  function listArticles(query: Sparse<ArticleQuery>): Promise<ArticlePartialList>;
  function listArticles(query: ArticleQuery = {}): Promise<ArticleList | ArticlePartialList> {
    return unwrap(raw.GET("/v1/articles", { params: { query } }));
  }
  type PageQuery = Query<"/v1/pages">;
  function listPages(query?: Exact<PageQuery>): Promise<ArticleList>;
  function listPages(query: Sparse<PageQuery>): Promise<ArticlePartialList>;
  function listPages(query: PageQuery = {}): Promise<ArticleList | ArticlePartialList> {
    return unwrap(raw.GET("/v1/pages", { params: { query } }));
  }
  /** One article (or page) in its default shape: body and every relation. */
  const article = async (slug: string): Promise<Article> =>
    (await unwrap(raw.GET("/v1/articles/{slug}", { params: { path: { slug } } }))).data as Article;
  const page = async (slug: string): Promise<Article> =>
    (await unwrap(raw.GET("/v1/pages/{slug}", { params: { path: { slug } } }))).data as Article;

  type Lists = {
    tags: [Query<"/v1/tags">, Schemas["TagList"]];
    sources: [Query<"/v1/sources">, Schemas["SourceList"]];
    actions: [Query<"/v1/actions">, Schemas["ActionList"]];
    authors: [Query<"/v1/authors">, Schemas["AuthorList"]];
  };
  /** Default-shaped lists of the small resources (for `fields=`, use `raw`). */
  function list<K extends keyof Lists>(kind: K, query?: Exact<Lists[K][0]>): Promise<Lists[K][1]> {
    // The four routes take the same list parameters; the cast picks the route by name.
    const path = `/v1/${kind}` as "/v1/tags";
    return unwrap(raw.GET(path, { params: { query: (query ?? {}) as Query<"/v1/tags"> } })) as Promise<
      Lists[K][1]
    >;
  }

  return {
    /** The openapi-fetch client, typed from the document, for every other route. */
    raw,
    /** Published articles, newest first; the default shape unless `fields`/`include`. */
    articles: listArticles,
    article,
    /** Every published article matching `query`, following cursors. */
    allArticles: (query: Exact<ArticleQuery> = {}): AsyncGenerator<ArticleSummary> =>
      follow((cursor) => listArticles({ ...query, ...(cursor ? { cursor } : {}) })),
    pages: listPages,
    page,
    list,
    /** Every item of one of the small lists, following cursors. */
    all: <K extends keyof Lists>(kind: K, query?: Exact<Lists[K][0]>) =>
      follow<Lists[K][1]["data"][number]>((cursor) =>
        list(kind, { ...query, ...(cursor ? { cursor } : {}) } as Exact<Lists[K][0]>),
      ),
    /** Ranked full-text search, each hit with a `<mark>`ed snippet. */
    search: async (q: string, query: Exact<Omit<Query<"/v1/search">, "q">> = {}) =>
      (await unwrap(raw.GET("/v1/search", { params: { query: { ...query, q } } }))) as Schemas["SearchHitList"],
    site: async (): Promise<Site> => (await unwrap(raw.GET("/v1/site"))).data,
  };
}
