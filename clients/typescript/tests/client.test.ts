/**
 * The client against a live `masthead serve` holding the demo content (MASTHEAD_URL), and
 * its retry policy against scripted answers. Run by tests/clients/test_typescript.py.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  createMasthead,
  ProblemError,
  retryAfterMs,
  revalidatingFetch,
  type Article,
  type ArticleSummary,
} from "../src/index.js";

const BASE = process.env.MASTHEAD_URL ?? "";
const DEMO = "demonstrations-in-london-as-russia-refuses-to-act-over-chechnya";
const live = { skip: BASE === "" ? "MASTHEAD_URL is not set" : false };

/** The global fetch, recording each request's If-None-Match and each answer's status. */
function recording() {
  const seen: { url: string; ifNoneMatch: string | null; status: number }[] = [];
  const fetch = async (request: Request) => {
    const ifNoneMatch = request.headers.get("if-none-match");
    const response = await globalThis.fetch(request);
    seen.push({ url: request.url, ifNoneMatch, status: response.status });
    return response;
  };
  return { seen, fetch };
}

test("default shapes are complete: title, tags[0].slug, body", live, async () => {
  const masthead = createMasthead({ baseUrl: BASE });
  const page = await masthead.articles({ limit: 5 });
  const summary: ArticleSummary = page.data[0];
  assert.equal(typeof summary.title, "string");
  assert.equal(typeof summary.tags[0].slug, "string");
  assert.equal(summary.authors[0].slug, "accidentally-alex");
  const article: Article = await masthead.article(DEMO);
  assert.equal(article.slug, DEMO);
  assert.deepEqual(
    article.tags.map((t) => t.slug).sort(),
    ["chechen-anti-gay-purge", "lgbtiq-rights", "vladimir-putin"],
  );
  assert.ok(article.body_html.length > 1000);
  assert.ok(article.sources.length >= 10);
  assert.equal(article.actions.length, 2);
  const site = await masthead.site();
  assert.equal(site.title, "Accidentally Alex");
});

test("sparse fieldsets are typed as partial", live, async () => {
  const masthead = createMasthead({ baseUrl: BASE });
  const page = await masthead.articles({ fields: "slug,title" });
  assert.deepEqual(Object.keys(page.data[0]).sort(), ["id", "slug", "title"]);
  // `page.data[0].tags` is `TagRef[] | undefined` here: the compiler makes callers check.
  assert.equal(page.data[0].tags, undefined);
});

test("the iterator follows cursors to the end, once per item", live, async () => {
  const { seen, fetch } = recording();
  const masthead = createMasthead({ baseUrl: BASE, fetch });
  const total = (await masthead.list("sources", { count: true })).meta.total;
  const slugs: string[] = [];
  for await (const source of masthead.all("sources", { limit: 2 })) slugs.push(source.slug);
  assert.equal(slugs.length, total);
  assert.equal(new Set(slugs).size, slugs.length);
  const pages = seen.filter((s) => s.url.includes("limit=2"));
  assert.equal(pages.length, Math.ceil(slugs.length / 2));
  assert.ok(pages.slice(1).every((s) => s.url.includes("cursor=")));
  const articles: string[] = [];
  for await (const article of masthead.allArticles({ limit: 1 })) articles.push(article.slug);
  assert.ok(articles.includes(DEMO));
});

test("a second read revalidates with If-None-Match and answers the cached value", live, async () => {
  const { seen, fetch } = recording();
  const masthead = createMasthead({ baseUrl: BASE, fetch });
  const first = await masthead.article(DEMO);
  const second = await masthead.article(DEMO);
  assert.deepEqual(second, first);
  assert.equal(seen.length, 2);
  assert.equal(seen[0].ifNoneMatch, null);
  assert.equal(seen[0].status, 200);
  assert.ok(seen[1].ifNoneMatch !== null && seen[1].ifNoneMatch.length > 2);
  assert.equal(seen[1].status, 304);
});

test("errors are typed problems", live, async () => {
  const masthead = createMasthead({ baseUrl: BASE });
  await assert.rejects(masthead.article("no-such-article"), (error: unknown) => {
    assert.ok(error instanceof ProblemError);
    assert.equal(error.status, 404);
    assert.equal(error.problem.status, 404);
    assert.equal(typeof error.problem.type, "string");
    return true;
  });
  await assert.rejects(masthead.articles({ limit: 0 }), (error: unknown) => {
    assert.ok(error instanceof ProblemError);
    assert.equal(error.status, 422);
    assert.ok((error.problem.errors ?? []).some((e) => e.loc.includes("limit")));
    return true;
  });
});

test("a live 429 whose Retry-After is past the budget is not waited for", live, async () => {
  // Failed authentications are limited per client address (the test server allows 3).
  const waits: number[] = [];
  const admin = createMasthead({
    baseUrl: BASE,
    token: "not-a-token",
    sleep: async (ms) => void waits.push(ms),
    retry: { budgetMs: 2000 },
  });
  const statuses: number[] = [];
  while (statuses.length < 30 && statuses.at(-1) !== 429) {
    const { response } = await admin.raw.GET("/v1/admin/tags");
    statuses.push(response.status);
  }
  assert.equal(statuses.at(-1), 429);
  assert.ok(statuses.slice(0, -1).every((status) => status === 401), String(statuses));
  assert.deepEqual(waits, []); // its Retry-After is the limit's window: minutes
  const { error } = await admin.raw.GET("/v1/admin/tags");
  assert.equal(error?.status, 429); // typed: the route's declared problem document
});

/** A fetch answering the scripted statuses in turn, and what was asked of it. */
function scripted(answers: { status: number; retryAfter?: string }[]) {
  let calls = 0;
  const fetch = async (_request: Request) => {
    const answer = answers[Math.min(calls++, answers.length - 1)];
    const headers: Record<string, string> =
      answer.status === 200
        ? { "content-type": "application/json" }
        : { "content-type": "application/problem+json" };
    if (answer.retryAfter !== undefined) headers["retry-after"] = answer.retryAfter;
    const body =
      answer.status === 200
        ? { data: { title: "Ok" } }
        : { type: "about:blank", title: "Busy", status: answer.status, detail: "Later." };
    return new Response(JSON.stringify(body), { status: answer.status, headers });
  };
  return { fetch, calls: () => calls };
}

test("429 and 503 are retried after Retry-After, within the budget", async () => {
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  const answers = scripted([{ status: 503, retryAfter: "1" }, { status: 429, retryAfter: "2" }, { status: 200 }]);
  const send = revalidatingFetch({ baseUrl: "http://x", fetch: answers.fetch, sleep });
  const response = await send(new Request("http://x/v1/site"));
  assert.equal(response.status, 200);
  assert.deepEqual(waits, [1000, 2000]);
  assert.equal(answers.calls(), 3);
});

test("retries stop at the attempt limit and at the budget", async () => {
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  const always = scripted([{ status: 503, retryAfter: "0" }]);
  const limited = revalidatingFetch({ baseUrl: "http://x", fetch: always.fetch, sleep, retry: { attempts: 3 } });
  assert.equal((await limited(new Request("http://x/v1/site"))).status, 503);
  assert.equal(always.calls(), 3);
  waits.length = 0;
  const slow = scripted([{ status: 503, retryAfter: "4" }]);
  const budgeted = revalidatingFetch({ baseUrl: "http://x", fetch: slow.fetch, sleep, retry: { budgetMs: 9000 } });
  assert.equal((await budgeted(new Request("http://x/v1/site"))).status, 503);
  assert.deepEqual(waits, [4000, 4000]); // a third wait would pass 9 s
  const masthead = createMasthead({ baseUrl: "http://x", fetch: scripted([{ status: 429, retryAfter: "60" }]).fetch, sleep });
  await assert.rejects(masthead.site(), (error: unknown) => error instanceof ProblemError && error.status === 429);
});

test("Retry-After as seconds or as an HTTP date", () => {
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs("soon"), undefined);
  const now = Date.parse("2026-06-01T12:00:00Z");
  assert.equal(retryAfterMs("Mon, 01 Jun 2026 12:00:05 GMT", now), 5000);
});
