//! What a draft's data holds, in the forms a draft states it: every number (also those
//! inside strings: dates, labels, subjects, titles), the counts of each kind of thing with
//! the sums and rounded percentages the renderer derives, line changes, dates, pull
//! request and issue numbers, logins, repositories, versions, links and commits.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use super::claims::{DATE, NUMBER, PULL, REPO_PULL, URL, Unit, VERSION, number_key};
use crate::backend::sparky::analyze::{GithubMetrics, MergedPullRequest, Totals};
use crate::backend::sparky::model::{CommitRecord, DigestData};

/// The longest run of days whose commits a digest sums up: a week.
const LONGEST_DAY_RUN: usize = 7;

#[derive(Debug, Default)]
pub(super) struct Known<'a> {
    /// Every number of the data and every count derived from it, as [`number_key`] writes it.
    numbers: BTreeSet<String>,
    counts: BTreeMap<Unit, BTreeSet<String>>,
    /// Insertions and deletions of each change, person, repository and period.
    line_changes: BTreeSet<(u64, u64)>,
    dates: BTreeSet<String>,
    /// Pull requests and issues by repository (lowercase) and number.
    pulls: BTreeSet<(String, u64)>,
    /// Every `#12` number the data holds, whatever its repository.
    pull_numbers: BTreeSet<u64>,
    /// Lowercase, as GitHub compares them.
    logins: BTreeSet<String>,
    /// Lowercase.
    repos: BTreeSet<String>,
    /// Lowercase owners of the `owner/name` repositories.
    owners: BTreeSet<String>,
    /// Without a leading `v`, lowercase.
    versions: BTreeSet<String>,
    /// Without a trailing `/`.
    links: BTreeSet<String>,
    pub commits: &'a [CommitRecord],
    pub merged: &'a [MergedPullRequest],
    /// Text the data holds whole and a draft quotes (subjects, titles, release names,
    /// failure reasons, labels), longest first.
    pub verbatim: Vec<&'a str>,
    /// Commit emails (lowercase) with the login GitHub knows them by.
    email_logins: BTreeMap<String, String>,
    /// Commit emails (lowercase) with the name the contributors list gives them: one
    /// person committing under two spellings of a name is named one way in a draft.
    email_names: BTreeMap<String, &'a str>,
}

impl<'a> Known<'a> {
    pub(super) fn new(data: &'a DigestData) -> Known<'a> {
        let tz = TimeZone::get(&data.period.time_zone).unwrap_or(TimeZone::UTC);
        let github = data.metrics.github.as_ref();
        let mut known = Known {
            commits: &data.commits,
            merged: github.map_or(&[], |g| g.pull_requests.merged_list.as_slice()),
            ..Known::default()
        };
        known.add_counts(data);
        known.email_names = data
            .metrics
            .contributors
            .iter()
            .map(|c| (c.email.to_lowercase(), c.name.as_str()))
            .collect();
        if let Some(g) = github {
            known.add_github(g);
        }
        known.add_names(data);
        if let Ok(json) = serde_json::to_value(data) {
            known.walk(&json, None, &tz, &mut Seen::default());
        }
        let counted: Vec<String> = known.counts.values().flatten().cloned().collect();
        known.numbers.extend(counted);
        known.verbatim = verbatim(data);
        known
    }

    pub(super) fn is_number(&self, key: &str) -> bool {
        self.numbers.contains(key)
    }

    pub(super) fn is_count(&self, unit: Unit, key: &str) -> bool {
        self.counts.get(&unit).is_some_and(|set| set.contains(key))
    }

    /// The largest count of `unit`: "3 more pull requests" can be no more than that.
    pub(super) fn most(&self, unit: Unit) -> Option<f64> {
        let set = self.counts.get(&unit)?;
        set.iter()
            .filter_map(|k| k.parse::<f64>().ok())
            .reduce(f64::max)
    }

    pub(super) fn is_line_change(&self, insertions: u64, deletions: u64) -> bool {
        self.line_changes.contains(&(insertions, deletions))
    }

    pub(super) fn is_date(&self, date: &str) -> bool {
        self.dates.contains(date)
    }

    pub(super) fn is_pull(&self, repo: Option<&str>, number: u64) -> bool {
        match repo {
            Some(repo) => self.pulls.contains(&(repo.to_lowercase(), number)),
            None => self.pull_numbers.contains(&number),
        }
    }

    pub(super) fn is_login(&self, login: &str) -> bool {
        self.logins.contains(&login.to_lowercase())
    }

    pub(super) fn is_repo(&self, name: &str) -> bool {
        self.repos.contains(&name.to_lowercase())
    }

    pub(super) fn is_owner(&self, owner: &str) -> bool {
        self.owners.contains(&owner.to_lowercase())
    }

    pub(super) fn is_version(&self, version: &str) -> bool {
        self.versions.contains(&version_key(version))
    }

    pub(super) fn is_link(&self, url: &str) -> bool {
        self.links.contains(url.trim_end_matches('/'))
    }

    /// The commits whose sha starts with `prefix`.
    pub(super) fn commits_starting(&self, prefix: &str) -> Vec<&'a CommitRecord> {
        let prefix = prefix.to_lowercase();
        self.commits
            .iter()
            .filter(|c| c.sha.to_lowercase().starts_with(&prefix))
            .collect()
    }

    /// Whether `name` is how the data names the author of `commit`: their name, or their
    /// GitHub login.
    pub(super) fn is_author(&self, commit: &CommitRecord, name: &str) -> bool {
        let login = commit
            .login
            .as_ref()
            .or_else(|| self.email_logins.get(&commit.email.to_lowercase()));
        let listed = self.email_names.get(&commit.email.to_lowercase());
        commit.author.eq_ignore_ascii_case(name)
            || login.is_some_and(|login| login.eq_ignore_ascii_case(name))
            || listed.is_some_and(|listed| listed.eq_ignore_ascii_case(name))
    }

    fn count(&mut self, unit: Unit, values: impl IntoIterator<Item = u64>) {
        let set = self.counts.entry(unit).or_default();
        set.extend(values.into_iter().map(|n| n.to_string()));
    }

    fn hours(&mut self, values: impl IntoIterator<Item = f64>) {
        let set = self.counts.entry(Unit::Hours).or_default();
        set.extend(values.into_iter().map(|h| h.to_string()));
    }

    /// Percent changes as a draft writes them: rounded, without a sign.
    fn percents(&mut self, values: impl IntoIterator<Item = Option<f64>>) {
        let rounded = values.into_iter().flatten().map(|p| p.abs().round() as u64);
        self.count(Unit::Percent, rounded);
    }

    fn line_change(&mut self, insertions: u64, deletions: u64) {
        self.line_changes.insert((insertions, deletions));
        self.count(Unit::Lines, [insertions, deletions, insertions + deletions]);
    }

    fn totals(&mut self, t: &Totals) {
        self.count(Unit::Commits, [t.commits, t.merges]);
        self.count(Unit::Contributors, [t.contributors]);
        self.count(Unit::Repositories, [t.active_repos]);
        self.count(Unit::Files, [t.files_changed]);
        self.line_change(t.insertions, t.deletions);
    }

    fn add_counts(&mut self, data: &DigestData) {
        let m = &data.metrics;
        self.totals(&m.totals);
        if let Some(trend) = &m.trend {
            self.totals(&trend.previous);
            self.percents([trend.commits_change_pct, trend.lines_change_pct]);
        }
        self.count(Unit::Commits, [data.commits.len() as u64]);
        for c in &data.commits {
            self.count(Unit::Files, [u64::from(c.files_changed)]);
            self.line_change(c.insertions, c.deletions);
        }
        for r in &m.repos {
            self.count(Unit::Commits, [r.commits]);
            self.count(Unit::Contributors, [r.contributors]);
            self.line_change(r.insertions, r.deletions);
        }
        let bots = m.contributors.iter().filter(|c| c.is_bot).count() as u64;
        let people = m.contributors.len() as u64;
        self.count(Unit::Contributors, [people, people - bots, bots]);
        for c in &m.contributors {
            self.count(Unit::Commits, [c.commits]);
            self.count(Unit::Repositories, [c.repos.len() as u64]);
            self.line_change(c.insertions, c.deletions);
        }
        for n in &m.notable {
            self.count(Unit::Files, [u64::from(n.files_changed)]);
            self.line_change(n.insertions, n.deletions);
        }
        for t in &m.themes {
            self.count(Unit::Commits, [t.commits.len() as u64]);
            self.count(Unit::Repositories, [t.repos.len() as u64]);
            self.count(Unit::Contributors, [t.people.len() as u64]);
            self.count(Unit::PullRequests, [t.pull_requests.len() as u64]);
            self.line_change(t.insertions, t.deletions);
        }
        self.count(Unit::Commits, [m.bulk.len() as u64]);
        let (collected, active) = (data.repos.len() as u64, m.repos.len() as u64);
        self.count(
            Unit::Repositories,
            [collected, active, collected.saturating_sub(active)],
        );
        let days: Vec<u64> = m.commits_per_day.iter().map(|d| d.commits).collect();
        let active_days = days.iter().filter(|&&n| n > 0).count() as u64;
        self.count(Unit::Days, [days.len() as u64, active_days]);
        // A day's, a week's (cut to the period) or any shorter run's commits.
        for start in 0..days.len() {
            let ends = start + 1..=(start + LONGEST_DAY_RUN).min(days.len());
            let sums: Vec<u64> = ends.map(|end| days[start..end].iter().sum()).collect();
            self.count(Unit::Commits, sums);
        }
    }

    fn add_github(&mut self, g: &GithubMetrics) {
        let prs = &g.pull_requests;
        self.count(
            Unit::PullRequests,
            [
                prs.opened,
                prs.merged,
                prs.closed_unmerged,
                prs.merged_list.len() as u64,
            ],
        );
        for r in &prs.per_repo {
            self.count(Unit::PullRequests, [r.opened, r.merged, r.closed_unmerged]);
        }
        for pr in &prs.merged_list {
            self.line_change(pr.additions, pr.deletions);
            self.count(Unit::Contributors, [pr.reviewers.len() as u64]);
        }
        self.hours(prs.merged_list.iter().map(|pr| pr.hours_to_merge));
        self.hours(prs.median_hours_to_merge);
        self.hours(prs.p90_hours_to_merge);
        self.hours(g.issues.median_hours_to_close);
        let reviews = &g.reviews;
        let reviewed: Vec<u64> = reviews.reviewers.iter().map(|r| r.reviewed).collect();
        self.count(Unit::PullRequests, reviewed.iter().copied());
        self.count(Unit::Reviews, reviewed);
        self.count(Unit::PullRequests, [reviews.merged_without_review]);
        self.count(Unit::Contributors, [reviews.reviewers.len() as u64]);
        let issues = &g.issues;
        self.count(
            Unit::Issues,
            [issues.opened, issues.closed, issues.net.unsigned_abs()],
        );
        for r in &issues.per_repo {
            self.count(Unit::Issues, [r.opened, r.closed]);
        }
        self.count(Unit::Releases, [g.releases.len() as u64]);
        self.count(Unit::Contributors, [g.people.len() as u64]);
        for p in &g.people {
            self.count(Unit::Commits, [p.commits]);
            self.count(Unit::PullRequests, [p.prs_opened, p.prs_merged, p.reviews]);
            self.count(Unit::Reviews, [p.reviews]);
            self.count(Unit::Repositories, [p.repos.len() as u64]);
            self.line_change(p.insertions, p.deletions);
        }
        let now = g.totals();
        self.count(Unit::Reviews, [now.reviews]);
        if let Some(trend) = &g.trend {
            let before = &trend.previous;
            self.count(
                Unit::PullRequests,
                [
                    before.prs_opened,
                    before.prs_merged,
                    before.prs_closed_unmerged,
                ],
            );
            self.count(Unit::Reviews, [before.reviews]);
            self.count(Unit::Issues, [before.issues_opened, before.issues_closed]);
            self.count(Unit::Releases, [before.releases]);
            self.hours(before.median_hours_to_merge);
            self.percents([
                trend.prs_merged_change_pct,
                trend.prs_opened_change_pct,
                trend.issues_closed_change_pct,
            ]);
        }
    }

    /// Logins, repositories and pull requests, from where the data keeps them.
    fn add_names(&mut self, data: &DigestData) {
        let mut logins: Vec<&str> = data
            .commits
            .iter()
            .filter_map(|c| c.login.as_deref())
            .collect();
        let mut repos: Vec<&str> = data.repos.iter().map(String::as_str).collect();
        repos.extend(data.commits.iter().map(|c| c.repo.as_str()));
        repos.extend(data.metrics.repos.iter().map(|r| r.name.as_str()));
        if let Some(g) = &data.metrics.github {
            for pr in &g.pull_requests.merged_list {
                logins.push(&pr.author);
                logins.extend(pr.reviewers.iter().map(String::as_str));
                repos.push(&pr.repo);
                self.pulls.insert((pr.repo.to_lowercase(), pr.number));
            }
            logins.extend(g.reviews.reviewers.iter().map(|r| r.login.as_str()));
            for r in &g.releases {
                logins.push(&r.author);
                repos.push(&r.repo);
            }
            for p in &g.people {
                if let Some(login) = &p.login {
                    logins.push(login);
                    if !p.email.is_empty() {
                        self.email_logins
                            .insert(p.email.to_lowercase(), login.clone());
                    }
                }
                repos.extend(p.repos.iter().map(String::as_str));
            }
            repos.extend(g.pull_requests.per_repo.iter().map(|r| r.repo.as_str()));
            repos.extend(g.issues.per_repo.iter().map(|r| r.repo.as_str()));
            repos.extend(g.failures.iter().map(|f| f.repo.as_str()));
        }
        // `(#12)` in a subject is a pull request of the commit's repository.
        for c in &data.commits {
            for number in PULL
                .captures_iter(&c.subject)
                .filter_map(|n| n[1].parse().ok())
            {
                self.pulls.insert((c.repo.to_lowercase(), number));
            }
        }
        self.logins.extend(logins.iter().map(|l| l.to_lowercase()));
        for repo in repos {
            self.repos.insert(repo.to_lowercase());
            if let Some((owner, _)) = repo.split_once('/') {
                self.owners.insert(owner.to_lowercase());
            }
        }
        let numbers: Vec<u64> = self.pulls.iter().map(|(_, n)| *n).collect();
        self.pull_numbers.extend(numbers);
    }

    /// Every number, date, link, reference and version in the data's JSON, keys included
    /// (`p90_hours_to_merge` holds the 90 of "90th percentile").
    fn walk<'v>(
        &mut self,
        value: &'v Value,
        key: Option<&str>,
        tz: &TimeZone,
        seen: &mut Seen<'v>,
    ) {
        match value {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.numbers.insert(u.to_string());
                } else if let Some(i) = n.as_i64() {
                    self.numbers.insert(i.unsigned_abs().to_string());
                } else if let Some(f) = n.as_f64() {
                    self.numbers.insert(f.to_string());
                    self.numbers.insert(f.abs().to_string());
                    if key.is_some_and(|k| k.ends_with("_pct")) {
                        self.numbers.insert((f.abs().round() as u64).to_string());
                    }
                }
            }
            Value::String(text) => {
                if seen.strings.insert(text) {
                    self.strings(text, tz);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.walk(v, key, tz, seen)),
            Value::Object(fields) => {
                // A sha's digits are no numbers a text could state: shas are judged whole.
                for (name, v) in fields.iter().filter(|(name, _)| name.as_str() != "sha") {
                    if seen.keys.insert(name) {
                        self.strings_in_key(name);
                    }
                    self.walk(v, Some(name), tz, seen);
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn strings_in_key(&mut self, key: &str) {
        let digits = NUMBER.find_iter(key).map(|m| number_key(m.as_str()));
        self.numbers.extend(digits.collect::<Vec<_>>());
    }

    fn strings(&mut self, text: &str, tz: &TimeZone) {
        // A time is stated by its day, in the period's time zone (and in UTC).
        if let Ok(at) = text.parse::<Timestamp>() {
            for zone in [tz.clone(), TimeZone::UTC] {
                let date = at.to_zoned(zone).date();
                self.numbers.extend(
                    [date.year().into(), date.month().into(), date.day().into()]
                        .map(|n: i64| n.to_string()),
                );
                self.dates.insert(date.to_string());
            }
            return;
        }
        // Every pattern below needs an ASCII digit, or a link's `://`: most of the data's
        // strings (names, emails, subjects) have neither, and skipping them keeps the
        // checker fast on a busy month.
        let links = text.contains("://");
        if !links && !text.bytes().any(|b| b.is_ascii_digit()) {
            return;
        }
        self.numbers
            .extend(NUMBER.find_iter(text).map(|m| number_key(m.as_str())));
        self.dates
            .extend(DATE.find_iter(text).map(|m| m.as_str().to_owned()));
        self.versions
            .extend(VERSION.find_iter(text).map(|m| version_key(m.as_str())));
        if !links && !text.contains('#') {
            return;
        }
        for m in URL.find_iter(text) {
            let url = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
            self.links.insert(url.trim_end_matches('/').to_owned());
            if let Some(pull) = pull_of_url(url) {
                self.pulls.insert(pull);
            }
        }
        for c in REPO_PULL.captures_iter(text) {
            if let Ok(number) = c[2].parse() {
                self.pulls.insert((c[1].to_lowercase(), number));
            }
        }
        let numbers = PULL.captures_iter(text).filter_map(|c| c[1].parse().ok());
        self.pull_numbers.extend(numbers.collect::<Vec<u64>>());
    }
}

/// Strings and keys already walked: the data repeats them (a path for every commit that
/// changed it, a field name for every record), and what one holds is known once.
#[derive(Default)]
struct Seen<'v> {
    strings: HashSet<&'v str>,
    keys: HashSet<&'v str>,
}

/// `https://github.com/o/n/pull/12` (or `/issues/12`): repository `o/n`, number 12.
fn pull_of_url(url: &str) -> Option<(String, u64)> {
    let path = url.split_once("://")?.1;
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [_, owner, name, "pull" | "issues", number, ..] => Some((
            format!("{owner}/{name}").to_lowercase(),
            number.parse().ok()?,
        )),
        _ => None,
    }
}

fn version_key(version: &str) -> String {
    version.trim_start_matches(['v', 'V']).to_lowercase()
}

/// Text a draft quotes from the data: what it says is the data's, not the draft's.
fn verbatim(data: &DigestData) -> Vec<&str> {
    let mut texts: Vec<&str> = data.commits.iter().map(|c| c.subject.as_str()).collect();
    // Names are quoted whole too: "Seed e0d533eb maintainers" holds no sha.
    texts.extend(data.commits.iter().map(|c| c.author.as_str()));
    texts.extend(data.metrics.contributors.iter().map(|c| c.name.as_str()));
    texts.push(&data.period.label);
    if let Some(trend) = &data.metrics.trend {
        texts.push(&trend.previous_label);
    }
    // Local repository names (`clone-of-01`); `owner/name` ones are checked as such.
    texts.extend(
        data.repos
            .iter()
            .filter(|r| !r.contains('/'))
            .map(String::as_str),
    );
    // What could not be read, as collection said it: it names objects, not commits.
    texts.extend(data.failures.iter().map(|f| f.reason.as_str()));
    if let Some(g) = &data.metrics.github {
        texts.extend(
            g.pull_requests
                .merged_list
                .iter()
                .map(|pr| pr.title.as_str()),
        );
        texts.extend(g.releases.iter().map(|r| r.name.as_str()));
        texts.extend(g.failures.iter().map(|f| f.reason.as_str()));
        texts.extend(g.trend.iter().map(|t| t.previous_label.as_str()));
    }
    texts.retain(|t| !t.trim().is_empty());
    // Longest first; each text once (an author is on each of their commits).
    texts.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    texts.dedup();
    texts
}
