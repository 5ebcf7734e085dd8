import { createMasthead, ProblemError } from "@masthead/client";

const masthead = createMasthead({ baseUrl: process.env.MASTHEAD_URL ?? "http://127.0.0.1:8000" });

// Default fields are typed as always there: no `?.`, no `!`, no `?? ""` (tsc --strict).
const { data: latest } = await masthead.articles({ limit: 5 });
for (const summary of latest) {
  console.log(summary.title, summary.published_at, summary.authors.map((a) => a.name));
}
const article = await masthead.article(latest[0].slug);
console.log(article.title, article.tags[0].slug, article.sources.length, article.body_html.length);

// Every tag, page after page (follows `meta.next_cursor`).
for await (const tag of masthead.all("tags", { limit: 2 })) {
  console.log(tag.hashtag ?? tag.name, tag.article_count);
}

// Errors are RFC 9457 problems.
try {
  await masthead.article("no-such-article");
} catch (error) {
  if (!(error instanceof ProblemError)) throw error;
  console.log(error.status, error.problem.title);
}
