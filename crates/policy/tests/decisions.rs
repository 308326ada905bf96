//! The precedence table and every shipped default profile, against real UT1
//! entries (UT1 blacklists, Université Toulouse Capitole, CC BY-SA 4.0).

use std::sync::Arc;

use classify::canon::CanonUrl;
use classify::index::IndexBuilder;
use classify::statutory::{StatutoryKind, StatutoryList};
use classify::taxonomy::Category;
use jiff::Timestamp;
use policy::defaults::{HELP_SITES, default_policy};
use policy::{Engine, Lists, Policy, Verdict};

/// Real entries from the UT1 lists, filed under our categories as the UT1
/// mapping files them.
fn ut1_lists() -> Lists {
    let mut b = IndexBuilder::new();
    let mut add = |name: &str, category: &str, domains: &[&str], urls: &[&str]| {
        b.add_list(
            name,
            Some(Category::from_id(category).expect("category")),
            domains.iter().copied(),
            urls.iter().copied(),
        )
        .expect("add");
    };
    add(
        "ut1/gambling",
        "gambling",
        &["bet365.com", "krcasino.net", "1121shib.org"],
        &[],
    );
    add("ut1/jobsearch", "job-search", &["bet365.com"], &[]);
    add("ut1/games", "games", &["roblox.com", "bet365.com"], &[]);
    add(
        "ut1/social_networks",
        "social-networking",
        &["facebook.com", "instagram.com", "tiktok.com", "discord.com"],
        &[],
    );
    add("ut1/chat", "chat", &["discord.com", "icq.com"], &[]);
    add(
        "ut1/webmail",
        "webmail",
        &["gmail.com", "mail.google.com", "protonmail.com"],
        &[],
    );
    add(
        "ut1/audio-video",
        "streaming",
        &["youtube.com", "netflix.com", "twitch.tv"],
        &[],
    );
    add(
        "ut1/ai",
        "generative-ai",
        &["chatgpt.com", "openai.com", "grok.com"],
        &[],
    );
    add(
        "ut1/doh",
        "dns-over-https",
        &["dns.google", "cloudflare-dns.com"],
        &[],
    );
    add("ut1/vpn", "vpn", &["nordvpn.com", "flyvpn.com"], &[]);
    add(
        "ut1/redirector",
        "proxy",
        &["nordvpn.com", "blastproxy.com"],
        &[],
    );
    add("ut1/dating", "dating", &["afroromance.com"], &[]);
    add("ut1/agressif", "hate-speech", &["amren.com"], &[]);
    add("ut1/shopping", "shopping", &["amazon.co.uk"], &[]);
    add(
        "ut1/adult",
        "pornography",
        &[],
        &["020sextoy.com/sk", "1512h.itch.io/life-in-teyvat"],
    );
    Lists {
        index: b.build(),
        statutory: Vec::new(),
    }
}

fn engine_with(policy: Policy, lists: Lists) -> Engine {
    Engine::new(policy, Arc::new(lists)).expect("engine")
}

fn engine() -> Engine {
    engine_with(default_policy(), ut1_lists())
}

/// A Wednesday in term, in London: 09:15 is lesson time, 12:15 is lunch.
const LESSON: &str = "2026-11-18T09:15:00Z";
const LUNCH: &str = "2026-11-18T12:15:00Z";
const SATURDAY_LUNCH: &str = "2026-11-21T12:15:00Z";

fn check(engine: &Engine, profile: &str, url: &str, at: &str) -> (Verdict, String) {
    let p = engine.profile_index(Some(profile)).expect("profile");
    let url = CanonUrl::parse(url).expect("url");
    let at: Timestamp = at.parse().expect("time");
    let d = engine.decide(p, &url, at);
    (d.verdict, engine.explain(&url, &d).rule)
}

fn verdict(engine: &Engine, profile: &str, url: &str) -> Verdict {
    check(engine, profile, url, LESSON).0
}

#[test]
fn ks2_blocks_by_category_and_names_the_harmful_one_first() {
    let e = engine();
    assert_eq!(
        check(&e, "ks2", "https://www.bet365.com/", LESSON),
        (Verdict::Block, "category:gambling".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://facebook.com/", LESSON),
        (Verdict::Block, "category:social-networking".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://nordvpn.com/", LESSON),
        (Verdict::Block, "category:vpn".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://dns.google/", LESSON),
        (Verdict::Block, "category:dns-over-https".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://amren.com/", LESSON),
        (Verdict::Block, "category:hate-speech".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://chatgpt.com/", LESSON),
        (Verdict::Block, "category:generative-ai".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://1512h.itch.io/life-in-teyvat/x", LESSON),
        (Verdict::Block, "category:pornography".into())
    );
    assert_eq!(
        verdict(&e, "ks2", "http://1512h.itch.io/other-game"),
        Verdict::Allow
    );
    assert_eq!(
        verdict(&e, "ks2", "http://www.example.org/"),
        Verdict::Allow
    );
}

#[test]
fn help_sites_stay_reachable_for_every_pupil_and_guest_profile() {
    let e = engine();
    for profile in ["eyfs-ks1", "ks2", "guest"] {
        for site in HELP_SITES {
            let (v, rule) = check(&e, profile, &format!("https://www.{site}/"), LESSON);
            assert_eq!(v, Verdict::Allow, "{profile} must reach {site}");
            assert!(rule.starts_with("allow:"), "{rule}");
        }
    }
}

#[test]
fn eyfs_ks1_is_a_walled_garden() {
    let e = engine();
    assert_eq!(
        check(&e, "eyfs-ks1", "http://www.example.org/", LESSON),
        (Verdict::Block, "walled-garden".into())
    );
    assert_eq!(
        verdict(&e, "eyfs-ks1", "https://www.bbc.co.uk/bitesize/subjects"),
        Verdict::Allow
    );
    assert_eq!(
        verdict(&e, "eyfs-ks1", "https://www.bbc.co.uk/news"),
        Verdict::Block
    );
    assert_eq!(
        verdict(&e, "eyfs-ks1", "https://www.topmarks.co.uk/maths-games"),
        Verdict::Allow
    );
    assert_eq!(
        verdict(&e, "eyfs-ks1", "https://www.bet365.com/"),
        Verdict::Block
    );
}

#[test]
fn staff_get_personal_use_at_break_and_lunch_only() {
    let e = engine();
    assert_eq!(
        check(&e, "staff", "https://www.facebook.com/", LESSON),
        (Verdict::Block, "category:social-networking".into())
    );
    assert_eq!(
        check(&e, "staff", "https://www.facebook.com/", LUNCH),
        (Verdict::Allow, "schedule:Lunch".into())
    );
    assert_eq!(
        check(&e, "staff", "https://gmail.com/", "2026-11-18T10:35:00Z").1,
        "schedule:Morning break"
    );
    // Lunch is on weekdays only.
    assert_eq!(
        check(&e, "staff", "https://www.facebook.com/", SATURDAY_LUNCH).0,
        Verdict::Block
    );
    // A break does not unblock gambling, even on a site also listed as games.
    assert_eq!(
        check(&e, "staff", "https://www.bet365.com/", LUNCH),
        (Verdict::Block, "category:gambling".into())
    );
    // Teachers use YouTube in lessons, with moderate restriction.
    let (v, _) = check(&e, "staff", "https://www.youtube.com/watch?v=1", LESSON);
    assert_eq!(v, Verdict::SafeSearch);
    assert_eq!(verdict(&e, "staff", "http://chatgpt.com/"), Verdict::Allow);
}

#[test]
fn schedules_follow_british_summer_time() {
    let e = engine();
    // 11:15 UTC on a July Wednesday is 12:15 in London: lunch.
    assert_eq!(
        check(
            &e,
            "staff",
            "https://www.facebook.com/",
            "2026-07-15T11:15:00Z"
        )
        .0,
        Verdict::Allow
    );
    // 12:15 UTC in July is 13:15 in London: after lunch.
    assert_eq!(
        check(
            &e,
            "staff",
            "https://www.facebook.com/",
            "2026-07-15T12:15:00Z"
        )
        .0,
        Verdict::Block
    );
}

#[test]
fn guests_are_filtered_but_not_like_children() {
    let e = engine();
    assert_eq!(
        verdict(&e, "guest", "https://www.bet365.com/"),
        Verdict::Block
    );
    assert_eq!(
        verdict(&e, "guest", "https://www.facebook.com/"),
        Verdict::Allow
    );
    assert_eq!(
        verdict(&e, "guest", "http://afroromance.com/"),
        Verdict::Block
    );
    assert_eq!(verdict(&e, "guest", "http://192.0.2.10/"), Verdict::Block);
}

#[test]
fn safe_search_is_enforced_per_engine_and_level() {
    let e = engine();
    let p = e.profile_index(Some("ks2")).expect("ks2");
    let at: Timestamp = LESSON.parse().expect("time");
    for (url, host) in [
        (
            "https://www.google.co.uk/search?q=volcanoes",
            "forcesafesearch.google.com",
        ),
        ("https://www.bing.com/search?q=volcanoes", "strict.bing.com"),
        ("https://duckduckgo.com/?q=volcanoes", "safe.duckduckgo.com"),
        (
            "https://www.youtube.com/results?search_query=volcanoes",
            "restrict.youtube.com",
        ),
    ] {
        let url = CanonUrl::parse(url).expect("url");
        let d = e.decide(p, &url, at);
        assert_eq!(d.verdict, Verdict::SafeSearch, "{}", url.as_key());
        assert_eq!(e.explain(&url, &d).safe_search_host, Some(host));
    }
    let staff = e.profile_index(Some("staff")).expect("staff");
    let url = CanonUrl::parse("https://m.youtube.com/").expect("url");
    let d = e.decide(staff, &url, at);
    assert_eq!(
        d.safe_search.map(|s| s.1),
        Some("restrictmoderate.youtube.com")
    );
}

/// The precedence table: each stage beats every stage below it.
#[test]
fn precedence_statutory_deny_allow_garden_schedule_category() {
    let mut policy = default_policy();
    {
        let ks2 = policy
            .profiles
            .iter_mut()
            .find(|p| p.id == "ks2")
            .expect("ks2");
        ks2.deny = vec![
            "bad-but-allowed.example".into(),
            "www.bet365.com/promo".into(),
        ];
        ks2.allow = vec![
            "bad-but-allowed.example".into(),
            "krcasino.net".into(),
            "statutory.example".into(),
            "roblox.com/education".into(),
        ];
        ks2.schedules = vec![policy::model::Schedule {
            name: "Golden time".into(),
            days: policy::model::Day::WEEKDAYS.to_vec(),
            from: "09:00".parse().expect("time"),
            to: "09:30".parse().expect("time"),
            allow_categories: [Category::from_id("games").expect("games")]
                .into_iter()
                .collect(),
            block_categories: [Category::from_id("streaming").expect("streaming")]
                .into_iter()
                .collect(),
        }];
    }
    let mut lists = ut1_lists();
    lists.statutory.push(
        StatutoryList::parse(
            StatutoryKind::Iwf,
            "test",
            b"statutory.example/\nkrcasino.net/private\n",
        )
        .expect("statutory"),
    );
    let e = engine_with(policy, lists);

    // 1. Statutory beats an allow override, on a whole host and on a path.
    assert_eq!(
        check(&e, "ks2", "http://statutory.example/", LESSON),
        (Verdict::Block, "statutory:iwf".into())
    );
    assert_eq!(
        check(&e, "ks2", "http://krcasino.net/private/a", LESSON),
        (Verdict::Block, "statutory:iwf".into())
    );
    // 2. Deny beats allow.
    assert_eq!(
        check(&e, "ks2", "http://bad-but-allowed.example/", LESSON),
        (Verdict::Block, "deny:bad-but-allowed.example".into())
    );
    assert_eq!(
        check(&e, "ks2", "https://bet365.com/promo/x", LESSON),
        (Verdict::Block, "deny:bet365.com/promo".into())
    );
    // 3. Allow beats categories, only below its path.
    assert_eq!(
        check(&e, "ks2", "http://krcasino.net/", LESSON),
        (Verdict::Allow, "allow:krcasino.net".into())
    );
    assert_eq!(
        check(
            &e,
            "ks2",
            "https://www.roblox.com/education/x",
            "2026-11-18T14:00:00Z"
        ),
        (Verdict::Allow, "allow:roblox.com/education".into())
    );
    assert_eq!(
        check(
            &e,
            "ks2",
            "https://www.roblox.com/games",
            "2026-11-18T14:00:00Z"
        )
        .0,
        Verdict::Block
    );
    // 5. A schedule in force allows games and blocks streaming; outside it, categories rule.
    assert_eq!(
        check(&e, "ks2", "https://www.roblox.com/games", LESSON),
        (Verdict::Allow, "schedule:Golden time".into())
    );
    assert_eq!(
        check(&e, "ks2", "https://www.bet365.com/", LESSON),
        (Verdict::Block, "category:gambling".into())
    );
    assert_eq!(
        check(&e, "ks2", "https://twitch.tv/", LESSON),
        (Verdict::Block, "schedule:Golden time".into())
    );
    assert_eq!(
        check(&e, "ks2", "https://twitch.tv/", "2026-11-18T14:00:00Z").0,
        Verdict::Allow
    );
    // 6. Bare IP addresses.
    assert_eq!(
        check(&e, "ks2", "http://198.51.100.7/", LESSON),
        (Verdict::Block, "ip-address".into())
    );
    assert_eq!(
        check(&e, "staff", "http://198.51.100.7/", LESSON).0,
        Verdict::Allow
    );
}

#[test]
fn statutory_cannot_be_overridden_by_any_profile() {
    let mut policy = default_policy();
    for p in &mut policy.profiles {
        p.allow.push("listed.example".into());
        p.blocked_categories = Default::default();
        p.walled_garden = false;
    }
    let mut lists = ut1_lists();
    lists.statutory.push(
        StatutoryList::parse(StatutoryKind::Ctiru, "t", b"listed.example/page\n").expect("list"),
    );
    let e = engine_with(policy, lists);
    for profile in ["eyfs-ks1", "ks2", "staff", "guest"] {
        assert_eq!(
            check(&e, profile, "http://listed.example/page", LUNCH),
            (Verdict::Block, "statutory:ctiru".into())
        );
        assert_eq!(
            check(&e, profile, "http://listed.example/other", LUNCH).0,
            Verdict::Allow
        );
    }
}

#[test]
fn statutory_explanations_show_no_entry() {
    let mut lists = ut1_lists();
    lists.statutory.push(
        StatutoryList::parse(StatutoryKind::Iwf, "t", b"hidden-entry.example/\n").expect("list"),
    );
    let e = engine_with(default_policy(), lists);
    let url = CanonUrl::parse("http://a.hidden-entry.example/x").expect("url");
    let d = e.decide(1, &url, LESSON.parse().expect("time"));
    let text = serde_json::to_string(&e.explain(&url, &d)).expect("json");
    assert!(text.contains("Internet Watch Foundation"), "{text}");
    // Only the URL asked about appears, never the list's own entry.
    assert_eq!(text.matches("hidden-entry").count(), 1, "{text}");
}

#[test]
fn unidentified_people_get_the_strictest_pupil_profile() {
    let e = engine();
    assert_eq!(
        e.profile_index(None).expect("default"),
        e.profile_index(Some("eyfs-ks1")).expect("eyfs")
    );
    assert!(e.profile_index(Some("nobody")).is_err());
}

#[test]
fn host_decisions_for_dns_and_connect() {
    let e = engine();
    let p = e.profile_index(Some("ks2")).expect("ks2");
    let at = LESSON.parse().expect("time");
    let d = e.decide_host(p, "www.bet365.com", classify::canon::HostKind::Domain, at);
    assert_eq!(d.verdict, Verdict::Block);
    // URL-level entries never block a whole host.
    let d = e.decide_host(p, "1512h.itch.io", classify::canon::HostKind::Domain, at);
    assert_eq!(d.verdict, Verdict::Allow);
}

#[test]
fn explanation_names_entry_lists_and_categories() {
    let e = engine();
    let url = CanonUrl::parse("https://www.bet365.com/").expect("url");
    let p = e.profile_index(Some("ks2")).expect("ks2");
    let x = e.explain(&url, &e.decide(p, &url, LESSON.parse().expect("time")));
    assert_eq!(x.verdict, "block");
    assert_eq!(x.categories, ["gambling", "games", "job-search"]);
    assert_eq!(x.matches.len(), 1);
    assert_eq!(x.matches[0].entry, "bet365.com");
    assert_eq!(
        x.matches[0].lists,
        [
            "ut1/gambling (gambling)",
            "ut1/jobsearch (job-search)",
            "ut1/games (games)"
        ]
    );
}

/// The DfE standard: harmful content and ways round the filter are blocked
/// for pupils and guests whatever else a school changes.
#[test]
fn pupil_and_guest_defaults_block_every_harmful_and_circumvention_category() {
    use classify::taxonomy::Group;
    use policy::model::Audience;
    for profile in default_policy()
        .profiles
        .iter()
        .filter(|p| p.audience != Audience::Staff)
    {
        for category in Category::all()
            .iter()
            .filter(|c| matches!(c.group(), Group::Harmful | Group::Circumvention))
        {
            assert!(
                profile.blocked_categories.contains(*category),
                "{} allows {}",
                profile.id,
                category.id()
            );
        }
    }
}
