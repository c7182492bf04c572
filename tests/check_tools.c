/* tools: the memory tool's observations and no-leakage filter, MemoryBank decay
 * and recall against a reference computation in the test, the MediaWiki path
 * against the loopback server and the kiwix path against a real kiwix-serve
 * serving a ZIM built here with zimwriterfs. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonu.h"
#include "loopback.h"
#include "memory.h"
#include "prompts.h"
#include "testutil.h"
#include "tools.h"

#define S(x) ((char *)(x))

static ds_item item(const char *id, const char *date, const char *f0, const char *label)
{
    return (ds_item){S(id), S(date), {S(f0), S("")}, S(label), 0};
}

static memory *build(ds_item *items, size_t n)
{
    ds_user u = {S("u1"), items, n, NULL, 0};
    memory *m;
    pe_err e = {0};
    ck_assert_msg(memory_build(task_get("lamp2m"), &u, NULL, &m, &e) == 0, "%s", e.msg);
    return m;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(memory_tool_observation_and_no_leakage)
{
    ds_item it[] = {
        item("h0", "2010-01-01", "robot alpha", "sci-fi"),
        item("h1", "2011-01-01", "robot beta", "comedy"),
        item("h2", "2012-01-01", "robot gamma", "action"),
        item("h3", "2013-01-01", "robot delta", "horror"),
        item("h4", "2014-01-01", "robot epsilon", "sci-fi"),
    };
    memory *m = build(it, 5);
    prompt_set *p;
    pe_err e = {0};
    agent_tool t;
    char *obs;

    ck_assert_int_eq(prompts_load(NULL, &p, &e), 0);
    for (size_t j = 0; j <= 5; j++) {
        topk_filter f = {j, NULL, 0, NULL};
        memory_tool_ctx ctx = {m, 10, &f, 0, NULL};
        t = tools_memory(p, &ctx);
        ck_assert_str_eq(t.name, "memory_search");
        ck_assert_str_eq(t.arg, "query");
        ck_assert_str_eq(t.description, prompts_get(p, "tool_memory"));
        obs = t.run(t.ctx, "robot");
        /* exactly the j items older than the replayed one, none of item j or newer */
        if (j == 0)
            ck_assert_str_eq(obs, "No matching memories.");
        else
            ck_assert_uint_eq(count_lines(obs), j);
        for (size_t i = 0; i < 5; i++)
            ck_assert_msg((strstr(obs, it[i].field[0]) != NULL) == (i < j), "j=%zu i=%zu: %s",
                          j, i, obs);
        free(obs);
    }
    {
        memory_tool_ctx ctx = {m, 2, NULL, 0, NULL};
        obs = tools_memory_search(&ctx, "robot delta");
        /* "delta" is only in h3: it comes first */
        ck_assert_ptr_nonnull(strstr(obs, "1. [2013-01-01] \"robot delta\" -> label: horror"));
        ck_assert_uint_eq(count_lines(obs), 2);
        free(obs);
        obs = tools_memory_search(&ctx, "");
        ck_assert_ptr_nonnull(strstr(obs, "Error"));
        free(obs);
    }
    prompts_free(p);
    memory_free(m);
}
END_TEST

/* Days since 1970-01-01 (reference for the test, by counting). */
static double days(int y, int mo, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    double n = 0;
    for (int k = 1970; k < y; k++)
        n += (k % 4 == 0 && (k % 100 != 0 || k % 400 == 0)) ? 366 : 365;
    for (int k = 1; k < mo; k++)
        n += mdays[k - 1] + (k == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    return n + d - 1;
}

/* The score printed on the observation line for the item with this text. */
static double printed_score(const char *obs, const char *text, int *rank)
{
    const char *p = strstr(obs, text), *sc, *line;
    ck_assert_msg(p != NULL, "%s not in %s", text, obs);
    for (line = p; line > obs && line[-1] != '\n'; line--)
        ;
    *rank = atoi(line);
    sc = strstr(p, "(score ");
    return atof(sc + 7);
}

START_TEST(membank_decay_and_recall)
{
    /* h0 matches the query best but is old; h2 matches less but is recent */
    ds_item it[] = {
        item("h0", "2000-01-01", "space robot battle fleet", "sci-fi"),
        item("h1", "2019-06-01", "kitchen cooking show", "comedy"),
        item("h2", "2019-12-01", "robot", "action"),
    };
    memory *m = build(it, 3);
    topk_hit plain[3];
    size_t n;
    double sim[3] = {0}, qd = days(2020, 1, 1), d[3];
    memory_tool_ctx ctx = {m, 1, NULL, 0, NULL};
    membank_state *mb;
    char *obs;
    int rank;

    d[0] = days(2000, 1, 1);
    d[1] = days(2019, 6, 1);
    d[2] = days(2019, 12, 1);
    ck_assert_int_eq(memory_search(m, "space robot battle", 3, NULL, plain, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        sim[plain[i].index] = plain[i].score;
    ck_assert_uint_eq(plain[0].index, 0); /* plain similarity prefers the old item */
    ck_assert(sim[2] > 0);

    mb = membank_state_new(m, "2020-01-01");
    ctx.membank = mb;
    obs = tools_memory_search(&ctx, "space robot battle");
    {
        double r0 = sim[0] * exp(-(qd - d[0]) / 365.0), r2 = sim[2] * exp(-(qd - d[2]) / 365.0);
        ck_assert(r2 > r0); /* the reference says the recent item wins */
        ck_assert_ptr_nonnull(strstr(obs, "\"robot\""));
        ck_assert_double_eq_tol(printed_score(obs, "\"robot\"", &rank), r2, 0.006);
        ck_assert_int_eq(rank, 1);
    }
    free(obs);
    /* the recalled item is strengthened */
    ck_assert_double_eq(membank_strength(mb, 2), 2);
    ck_assert_double_eq(membank_strength(mb, 0), 1);
    /* with k = 3 all come back, ordered by decayed score; h2 decays with S = 2 now */
    ctx.k = 3;
    obs = tools_memory_search(&ctx, "space robot battle");
    {
        double r[3];
        int rk[3];
        for (int i = 0; i < 3; i++)
            r[i] = sim[i] * exp(-(qd - d[i]) / ((i == 2 ? 2.0 : 1.0) * 365.0));
        ck_assert_double_eq_tol(printed_score(obs, "\"robot\"", &rk[2]), r[2], 0.006);
        ck_assert_double_eq_tol(printed_score(obs, "space robot", &rk[0]), r[0], 0.006);
        printed_score(obs, "kitchen", &rk[1]);
        ck_assert_int_eq(rk[2], 1);
        ck_assert_int_eq(rk[0], r[0] > r[1] ? 2 : 3);
    }
    free(obs);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(membank_strength(mb, (size_t)i), i == 2 ? 3 : 2);
    membank_state_free(mb);
    memory_free(m);
}
END_TEST

START_TEST(membank_without_dates_uses_item_steps)
{
    /* identical texts: only the retention orders them */
    ds_item it[] = {item("h0", NULL, "robot", "a"), item("h1", NULL, "robot", "b"),
                    item("h2", NULL, "robot", "c"), item("h3", NULL, "robot", "d"),
                    item("h4", NULL, "robot", "e")};
    memory *m = build(it, 5);
    topk_filter f = {3, NULL, 0, NULL};
    memory_tool_ctx ctx = {m, 2, NULL, 0, NULL};
    membank_state *mb = membank_state_new(m, NULL);
    char *obs;

    ctx.membank = mb;
    obs = tools_memory_search(&ctx, "robot");
    /* newest first: h4 (dt 0), h3 (dt 1 step) */
    ck_assert_ptr_nonnull(strstr(obs, "1. \"robot\" -> label: e"));
    ck_assert_ptr_nonnull(strstr(obs, "2. \"robot\" -> label: d"));
    free(obs);
    /* replaying item 3: distances count from item 2, the newest visible */
    ctx.filter = &f;
    obs = tools_memory_search(&ctx, "robot");
    ck_assert_ptr_nonnull(strstr(obs, "1. \"robot\" -> label: c"));
    ck_assert_ptr_nonnull(strstr(obs, "2. \"robot\" -> label: b"));
    ck_assert_ptr_null(strstr(obs, "label: d"));
    free(obs);
    membank_state_free(mb);
    memory_free(m);
}
END_TEST

/* ---- MediaWiki through the loopback server ---------------------------------------------- */

static char *wiki_base(const lb_server *s)
{
    return xasprintf("http://127.0.0.1:%d", s->port);
}

/* The paths of the recorded requests, one per line. */
static char *paths(lb_server *s)
{
    char *log = lb_requests(s), *p = log;
    buf b = BUF_INIT;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        cJSON *j = jsonu_parse(p, nl ? (size_t)(nl - p) : strlen(p), NULL);
        buf_printf(&b, "%s %s\n", jsonu_str(j, "method"), jsonu_str(j, "path"));
        cJSON_Delete(j);
        p = nl ? nl + 1 : NULL;
    }
    free(log);
    return buf_detach(&b);
}

START_TEST(mediawiki_summary_and_opensearch)
{
    lb_server *s = lb_start(
        "{\"/api/rest_v1/page/summary/Albert_Einstein\": ["
        "{\"body\": {\"title\": \"Albert Einstein\", \"extract\": \"Albert Einstein was a "
        "German-born theoretical physicist.\"}}, "
        "{\"body\": {\"title\": \"Albert Einstein\", \"extract\": \"Albert Einstein was a "
        "German-born theoretical physicist.\"}}],"
        "\"/w/api.php\": [{\"body\": [\"einstein physicist\", [\"Albert Einstein\"], [\"\"], "
        "[\"https://x/wiki/Albert_Einstein\"]]}]}");
    char *base = wiki_base(s), *sum, *got, *obs;
    wiki_client *w;
    pe_err e = {0};
    prompt_set *p;
    agent_tool t;

    ck_assert_int_eq(tools_wiki_new(base, 5, &w, &e), 0);
    ck_assert_ptr_nonnull(w);
    sum = tools_wiki_summary(w, "Albert Einstein", 1000, &e);
    ck_assert_str_eq(sum, "Albert Einstein was a German-born theoretical physicist.");
    free(sum);
    /* no page of that title: opensearch finds one */
    sum = tools_wiki_summary(w, "einstein physicist", 1000, &e);
    ck_assert_ptr_nonnull(sum);
    ck_assert_str_eq(sum, "Albert Einstein was a German-born theoretical physicist.");
    free(sum);
    got = paths(s);
    ck_assert_str_eq(got,
                     "GET /api/rest_v1/page/summary/Albert_Einstein\n"
                     "GET /api/rest_v1/page/summary/einstein_physicist\n"
                     "GET /w/api.php?action=opensearch&search=einstein%20physicist&limit=1"
                     "&namespace=0&format=json\n"
                     "GET /api/rest_v1/page/summary/Albert_Einstein\n");
    free(got);
    /* nothing found is an observation */
    ck_assert_ptr_null(tools_wiki_summary(w, "qqq zzz", 1000, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "no Wikipedia article found for \"qqq zzz\""));
    ck_assert_int_eq(prompts_load(NULL, &p, &e), 0);
    t = tools_wikipedia(p, w);
    ck_assert_str_eq(t.name, "wikipedia");
    ck_assert_str_eq(t.arg, "topic");
    ck_assert_str_eq(t.description, prompts_get(p, "tool_wikipedia"));
    obs = t.run(t.ctx, "qqq zzz");
    ck_assert_str_eq(obs, "No Wikipedia article found for \"qqq zzz\".");
    free(obs);
    prompts_free(p);
    tools_wiki_free(w);
    /* "off" gives no client; a bad spec is a usage error */
    ck_assert_int_eq(tools_wiki_new("off", 5, &w, &e), 0);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(tools_wiki_new("en.wikipedia.org", 5, &w, &e), PE_EXIT_USAGE);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(mediawiki_long_extract_is_cut)
{
    buf script = BUF_INIT, ex = BUF_INIT;
    lb_server *s;
    char *base, *sum;
    wiki_client *w;
    pe_err e = {0};

    for (int i = 0; i < 300; i++)
        buf_printf(&ex, "word%03d ", i); /* 8 bytes each: 2400 bytes */
    buf_adds(&script, "{\"/api/rest_v1/page/summary/Long\": [{\"body\": {\"extract\": ");
    buf_json_str(&script, buf_str(&ex));
    buf_adds(&script, "}}]}");
    s = lb_start(buf_str(&script));
    base = wiki_base(s);
    ck_assert_int_eq(tools_wiki_new(base, 5, &w, &e), 0);
    sum = tools_wiki_summary(w, "Long", 1000, &e);
    /* 1000 bytes end inside "word125": cut at the space before it, then "..." */
    ck_assert_uint_eq(strlen(sum), 125 * 8 - 1 + 3);
    ck_assert_str_eq(sum + strlen(sum) - 10, "word124...");
    free(sum);
    tools_wiki_free(w);
    free(base);
    buf_free(&script);
    buf_free(&ex);
    lb_stop(s);
}
END_TEST

/* ---- kiwix-serve ----------------------------------------------------------------------- */

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* 1 when something accepts TCP connections on 127.0.0.1:port. */
static int port_open(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static const char PNG_PY[] =
    "import zlib,struct,sys\n"
    "def ch(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))\n"
    "raw=b''.join(b'\\x00'+b'\\x10\\x80\\xf0'*48 for _ in range(48))\n"
    "open(sys.argv[1],'wb').write(b'\\x89PNG\\r\\n\\x1a\\n'+ch(b'IHDR',struct.pack('>IIBBBBB',"
    "48,48,8,2,0,0,0))+ch(b'IDAT',zlib.compress(raw))+ch(b'IEND',b''))\n";

START_TEST(kiwix_serve_search_and_article)
{
    char *dir = tu_tmpdir(), *html = tu_path(dir, "html"), *f, *spec, *sum, *err = NULL;
    int port = free_port(), up = 0;
    pid_t pid;
    wiki_client *w;
    pe_err e = {0};

    ck_assert_int_eq(tu_sh(NULL, NULL, "mkdir -p '%s'", html), 0);
    f = tu_path(html, "index.html");
    tu_write(f, "<html><head><title>Home</title></head><body><p>Welcome</p></body></html>");
    free(f);
    f = tu_path(html, "Albert_Einstein.html");
    tu_write(f, "<html><head><title>Albert Einstein</title><style>p{color:red}</style>"
                "<script>var hidden = 1;</script></head><body><h1>Albert Einstein</h1>\n"
                "<p>Albert <b>Einstein</b> was a German-born   theoretical\n physicist &amp; "
                "author.</p><p>He developed the theory of relativity.</p></body></html>");
    free(f);
    f = tu_path(html, "Film_noir.html");
    tu_write(f, "<html><head><title>Film noir</title></head><body><p>Film noir is a cinematic "
                "term for stylized Hollywood crime dramas.</p></body></html>");
    free(f);
    f = tu_path(dir, "png.py");
    tu_write(f, PNG_PY);
    ck_assert_int_eq(tu_sh(NULL, NULL, "python3 '%s' '%s/ill.png'", f, html), 0);
    free(f);
    ck_assert_int_eq(tu_sh(NULL, &err, "cd '%s' && zimwriterfs -w index.html -I ill.png -l eng "
                           "-t Test -d test -c test -p test -n testwiki html test.zim", dir), 0);
    free(err);
    f = tu_path(dir, "test.zim");
    pid = fork();
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execlp("kiwix-serve", "kiwix-serve", "-i", "127.0.0.1", "-p", p, f, (char *)NULL);
        _exit(127);
    }
    spec = xasprintf("kiwix:http://127.0.0.1:%d/", port);
    ck_assert_int_eq(tools_wiki_new(spec, 5, &w, &e), 0);
    for (int i = 0; i < 200 && !up; i++) { /* wait until it listens */
        up = port_open(port);
        if (!up)
            usleep(50000);
    }
    ck_assert(up);
    sum = tools_wiki_summary(w, "einstein", 1000, &e);
    ck_assert_msg(sum != NULL, "%s", e.msg);
    /* the paragraphs only: no title, toolbar, style or script text */
    ck_assert_str_eq(sum, "Albert Einstein was a German-born theoretical physicist & author. "
                          "He developed the theory of relativity.");
    free(sum);
    sum = tools_wiki_summary(w, "film noir", 1000, &e);
    ck_assert_str_eq(sum, "Film noir is a cinematic term for stylized Hollywood crime dramas.");
    free(sum);
    ck_assert_ptr_null(tools_wiki_summary(w, "zzqqxx", 1000, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "no Wikipedia article found"));
    tools_wiki_free(w);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    tu_rmrf(dir);
    free(spec);
    free(f);
    free(html);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tools");
    TCase *c = tcase_create("core");
    tcase_set_timeout(c, 60);
    tcase_add_test(c, memory_tool_observation_and_no_leakage);
    tcase_add_test(c, membank_decay_and_recall);
    tcase_add_test(c, membank_without_dates_uses_item_steps);
    tcase_add_test(c, mediawiki_summary_and_opensearch);
    tcase_add_test(c, mediawiki_long_extract_is_cut);
    tcase_add_test(c, kiwix_serve_search_and_article);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
