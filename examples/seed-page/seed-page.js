// The seed page, rendered from Masthead's public API: the newsletter sign-up with its
// consent box, then one view chosen by the query string:
//   (none)          the newest article
//   ?article=slug   that article
//   ?tag=slug       a tag page: the tag and its articles
//   ?page=slug      a page (the privacy policy)
// Every request goes to Masthead (the `masthead-api` meta tag, the same origin by default).

const apiMeta = document.querySelector('meta[name="masthead-api"]');
const API = new URL(`${apiMeta ? apiMeta.content : "../../"}v1/`, import.meta.url);
const PRIVACY_POLICY = "privacy-policy";

class ApiError extends Error {
  /** A problem document (RFC 9457) answered by the API, or a network failure. */
  constructor(status, problem) {
    super(problemText(problem) || `The API answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

/** What a problem document says, for a reader: its detail and each invalid input. */
function problemText(problem) {
  if (!problem || typeof problem !== "object") return "";
  const reasons = Array.isArray(problem.errors) ? problem.errors.map((e) => e.msg) : [];
  return [problem.detail, ...reasons].filter(Boolean).join(" ");
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(new URL(path, API), {
      ...options,
      headers: { Accept: "application/json, application/problem+json", ...options.headers },
    });
  } catch (error) {
    throw new ApiError(0, { detail: `Masthead could not be reached (${error.message}).` });
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** An element with attributes and children (strings become text, never HTML). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const longDate = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" });

function byline(article) {
  const names = article.authors.map((author) =>
    author.url ? el("a", { href: author.url, rel: "author" }, author.name) : author.name,
  );
  const parts = [];
  names.forEach((name, index) => parts.push(index ? ", " : "By ", name));
  const when = article.published_at
    ? el("time", { datetime: article.published_at }, longDate.format(new Date(article.published_at)))
    : null;
  return el("p", { class: "byline" }, ...parts, when ? " · " : null, when);
}

function hashtags(tags) {
  return el(
    "ul",
    { class: "hashtags", "aria-label": "Tags" },
    ...tags.map((tag) =>
      el("li", {}, el("a", { class: "hashtag", href: `?tag=${encodeURIComponent(tag.slug)}` }, tag.hashtag)),
    ),
  );
}

function references(citations) {
  const list = el(
    "ol",
    { class: "references" },
    ...citations.map((citation, index) =>
      el(
        "li",
        { id: `ref-${index + 1}`, class: "reference" },
        el(
          "a",
          { href: citation.cited_url || citation.source.url, rel: "external noopener" },
          citation.source.name,
        ),
        citation.context ? ` — ${citation.context}` : null,
      ),
    ),
  );
  return el("section", { class: "sources", "aria-labelledby": "references-heading" },
    el("h3", { id: "references-heading" }, "References"), list);
}

function actions(calls) {
  return el(
    "section",
    { class: "actions", "aria-label": "Take action" },
    ...calls.map((action) =>
      el(
        "p",
        {},
        // The tracked redirect: Masthead counts the click, then sends the reader on.
        el("a", { class: `action action-${action.kind}`, href: action.go_url }, action.title),
        action.organisation ? el("span", { class: "organisation" }, ` with ${action.organisation}`) : null,
      ),
    ),
  );
}

function articleView(article) {
  const body = el("div", { class: "body" });
  // `body_html` is sanitised by Masthead against an allow-list: safe to insert as HTML.
  body.innerHTML = article.body_html;
  return el(
    "article",
    { class: "article", "data-slug": article.slug },
    el("h1", { class: "title" }, article.title),
    article.subtitle ? el("p", { class: "subtitle" }, article.subtitle) : null,
    byline(article),
    body,
    actions(article.actions),
    hashtags(article.tags),
    article.sources.length ? references(article.sources) : null,
  );
}

function articleCard(article) {
  return el(
    "li",
    {},
    el("a", { href: `?article=${encodeURIComponent(article.slug)}` }, article.title),
    article.excerpt ? el("p", { class: "excerpt" }, article.excerpt) : null,
  );
}

async function tagView(slug) {
  const [tag, articles] = await Promise.all([
    call(`tags/${encodeURIComponent(slug)}`),
    call(`articles?tag=${encodeURIComponent(slug)}&fields=slug,title,excerpt`),
  ]);
  return el(
    "section",
    { class: "tag-page", "data-slug": tag.data.slug },
    el("h1", { class: "title" }, tag.data.hashtag),
    el("p", { class: "subtitle" }, tag.data.name),
    tag.data.description ? el("p", {}, tag.data.description) : null,
    el("ul", { class: "article-list" }, ...articles.data.map(articleCard)),
  );
}

async function pageView(slug) {
  const page = (await call(`pages/${encodeURIComponent(slug)}`)).data;
  const body = el("div", { class: "body" });
  body.innerHTML = page.body_html; // sanitised by Masthead
  return el("article", { class: "page", "data-slug": page.slug }, el("h1", { class: "title" }, page.title), body);
}

async function articleSlug(params) {
  if (params.get("article")) return params.get("article");
  const newest = await call("articles?limit=1&fields=slug");
  if (!newest.data.length) throw new ApiError(404, { detail: "No article is published yet." });
  return newest.data[0].slug;
}

async function renderView(params) {
  if (params.get("tag")) return tagView(params.get("tag"));
  if (params.get("page")) return pageView(params.get("page"));
  const slug = await articleSlug(params);
  return articleView((await call(`articles/${encodeURIComponent(slug)}`)).data);
}

/** The publication's name: the site settings' title once an admin has set them (never
 * saved, they carry a default title and no `updated_at`), else the newest article's author. */
async function siteTitle() {
  const site = await call("site").catch(() => null);
  if (site?.data.updated_at) return site.data.title;
  const newest = await call("articles?limit=1&fields=authors").catch(() => null);
  return newest?.data[0]?.authors[0]?.name ?? site?.data.title ?? "Masthead";
}

/** The privacy policy the form links to: its version is the one a sign-up agrees to. */
async function privacyPolicy(form) {
  const policy = await call(`pages/${PRIVACY_POLICY}?fields=slug,title,updated_at`).catch(() => null);
  if (policy) {
    form.querySelector("#privacy-policy-link").title = policy.data.title;
    form.dataset.policyVersion = policy.data.updated_at;
  }
}

function signup(form) {
  const status = form.querySelector("#signup-status");
  const email = form.querySelector("#signup-email");
  const consent = form.querySelector("#signup-consent");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    status.className = "status";
    const shown = document.querySelector("#view [data-slug]");
    const body = {
      email: email.value.trim(),
      consent: consent.checked,
      policy_version: form.dataset.policyVersion || "1",
      // The exact text beside the box: its hash goes into the consent ledger as proof.
      consent_wording: form.querySelector(".consent span").textContent,
      source: shown ? `/${shown.classList.contains("article") ? "articles" : "pages"}/${shown.dataset.slug}` : location.pathname,
    };
    try {
      const answer = await call("subscriptions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      status.textContent = answer.message;
      status.classList.add("status-thanks");
      form.reset();
    } catch (error) {
      status.textContent = error.message;
      status.classList.add("status-error");
    }
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  const form = document.querySelector("#signup-form");
  form.querySelector("#privacy-policy-link").href = `?page=${PRIVACY_POLICY}`;
  signup(form);
  const view = document.querySelector("#view");
  const [title, content] = await Promise.allSettled([
    siteTitle(),
    renderView(params),
    privacyPolicy(form),
  ]);
  if (title.status === "fulfilled") {
    for (const node of document.querySelectorAll("[data-site-title]")) node.textContent = title.value;
    document.title = title.value;
  }
  if (content.status === "fulfilled") {
    view.replaceChildren(content.value);
    const heading = content.value.querySelector(".title");
    if (heading && title.status === "fulfilled") document.title = `${heading.textContent} · ${title.value}`;
  } else {
    view.replaceChildren(el("p", { class: "status status-error", role: "alert" }, content.reason.message));
  }
  document.body.dataset.ready = "true";
}

main();
