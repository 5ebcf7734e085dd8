// Drives the official Ghost Content API client against a live Masthead and prints what it
// got as one JSON object (tests/ghost/test_official_client.py asserts on it).
//
//   node checks.cjs input.json      input: {client, url, key, filters, pageSlug}

'use strict';

const fs = require('fs');

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const GhostContentAPI = require(input.client);

const results = {};

async function check(name, run) {
    try {
        results[name] = {ok: true, value: await run()};
    } catch (error) {
        results[name] = {
            ok: false,
            error: {
                name: error.name,
                type: error.type,
                message: error.message,
                status: error.response ? error.response.status : null
            }
        };
    }
}

const summary = list => ({
    count: list.length,
    slugs: list.map(item => item.slug),
    meta: list.meta
});

async function main() {
    const api = new GhostContentAPI({url: input.url, key: input.key, version: 'v5.0'});
    const v3 = new GhostContentAPI({url: input.url, key: input.key, version: 'v3'});
    const canary = new GhostContentAPI({url: input.url, key: input.key, version: 'canary'});

    await check('posts.browse', async () => {
        const posts = await api.posts.browse({include: 'tags,authors'});
        return {...summary(posts), first: posts[0]};
    });
    await check('posts.browse.all', async () => {
        const posts = await api.posts.browse({limit: 'all', include: 'tags,authors'});
        return {...summary(posts), published: posts.map(p => p.published_at),
            withPrimaryTag: posts.filter(p => p.primary_tag).length};
    });
    await check('posts.browse.page2', async () => summary(await api.posts.browse({limit: 10, page: 2})));
    await check('posts.browse.page1', async () => summary(await api.posts.browse({limit: 10, page: 1})));
    await check('posts.browse.order', async () => {
        const posts = await api.posts.browse({order: 'title asc, published_at desc', limit: 'all', fields: 'slug,title'});
        return {...summary(posts), titles: posts.map(p => p.title)};
    });
    await check('posts.browse.fields', async () => (await api.posts.browse({fields: 'title,url', limit: 1}))[0]);
    await check('posts.browse.plaintext', async () => (await api.posts.browse({formats: 'plaintext', limit: 1}))[0]);
    await check('posts.read.id', async () => {
        const [first] = await api.posts.browse({limit: 1});
        const post = await api.posts.read({id: first.id});
        return {wanted: first.slug, slug: post.slug, id: post.id};
    });
    await check('posts.read.slug', async () => {
        const post = await api.posts.read({slug: input.postSlug}, {include: 'tags,authors'});
        return {slug: post.slug, primaryTag: post.primary_tag && post.primary_tag.slug,
            primaryAuthor: post.primary_author && post.primary_author.slug, url: post.url,
            html: typeof post.html};
    });
    const filters = {};
    for (const filter of input.filters) {
        try {
            filters[filter] = {ok: true, slugs: (await api.posts.browse({filter, limit: 'all', fields: 'slug'})).map(p => p.slug)};
        } catch (error) {
            filters[filter] = {ok: false, name: error.name, message: error.message};
        }
    }
    results.filters = {ok: true, value: filters};

    await check('pages.browse', async () => summary(await api.pages.browse({limit: 'all'})));
    await check('pages.read.slug', async () => (await api.pages.read({slug: input.pageSlug})).slug);
    await check('pages.read.id', async () => {
        const [page] = await api.pages.browse({limit: 1});
        return {wanted: page.slug, slug: (await api.pages.read({id: page.id})).slug};
    });
    await check('tags.browse', async () => {
        const tags = await api.tags.browse({limit: 'all', include: 'count.posts'});
        return {...summary(tags), counts: Object.fromEntries(tags.map(t => [t.slug, t.count.posts]))};
    });
    await check('tags.read', async () => {
        const tag = await api.tags.read({slug: 'tag-1'});
        const again = await api.tags.read({id: tag.id});
        return {slug: tag.slug, byId: again.slug, url: tag.url};
    });
    await check('authors.browse', async () => summary(await api.authors.browse({include: 'count.posts'})));
    await check('authors.read', async () => {
        const author = await api.authors.read({slug: 'author-1'});
        return {slug: author.slug, byId: (await api.authors.read({id: author.id})).slug, url: author.url};
    });
    await check('settings.browse', async () => api.settings.browse());
    await check('tiers.browse', async () => summary(await api.tiers.browse()));
    await check('newsletters.browse', async () => summary(await api.newsletters.browse()));
    await check('offers.read', async () => api.offers.read({id: '0123456789abcdef01234567'}));
    await check('members.token.ignored', async () => summary(await api.posts.browse({limit: 3}, 'members.jwt.token')));
    await check('v3.posts.browse', async () => summary(await v3.posts.browse({limit: 5})));
    await check('canary.tags.browse', async () => summary(await canary.tags.browse()));
    await check('error.read.missing', async () => api.posts.read({slug: 'no-such-post'}));
    await check('error.filter.unknown', async () => api.posts.browse({filter: 'password:x'}));
    await check('error.filter.malformed', async () => api.posts.browse({filter: 'tag:[a,b'}));
    await check('error.key.unknown', async () => {
        const stranger = new GhostContentAPI({url: input.url, key: '0'.repeat(26), version: 'v5.0'});
        return stranger.posts.browse();
    });
    await check('error.key.format', async () => {
        const old = new GhostContentAPI({url: input.url, key: 'mh_not-hex-at-all', version: 'v5.0'});
        return old.posts.browse();
    });
    process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
    process.stderr.write(String(error && error.stack || error));
    process.exit(1);
});
