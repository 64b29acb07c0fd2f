//! `RouteTable`: host + method + path template → target, compiled into a segment trie so that a
//! lookup costs the path's depth, not the number of routes.
//!
//! Precedence at every segment is literal, then `*`, then `**`, with backtracking; a verb route
//! beats a plain one, and a path a verb route matches is that verb's alone (another method there is a
//! 405; a plain variable never captures `name:verb` in its place); routes for the request's host beat
//! host-less ones. Empty request segments match nothing, so a trailing slash is never ignored.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use http::Method;

use super::template::{PathTemplate, Segment, decode};

/// The outcome of [`RouteTable::lookup`].
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a, T> {
    /// values: one String per template variable, in `template.variables()` order.
    Found {
        target: &'a T,
        values: Vec<String>,
    },
    /// The path matched routes, none for this method; the allowed methods, sorted, deduplicated.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

/// Two routes that no request could tell apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "route conflict: {method} {template} on {} is equivalent to the existing route {existing}",
    .host.as_deref().unwrap_or("any host")
)]
pub struct RouteConflict {
    pub host: Option<String>,
    pub method: Method,
    pub template: String,
    pub existing: String,
}

#[derive(Debug)]
pub struct RouteTableBuilder<T> {
    table: RouteTable<T>,
}

impl<T> Default for RouteTableBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RouteTableBuilder<T> {
    pub fn new() -> Self {
        let table = RouteTable {
            routes: Vec::new(),
            any_host: Node::default(),
            by_host: HashMap::new(),
            verbs: HashSet::new(),
        };
        Self { table }
    }

    /// Fails when a route with the same host and method and an equivalent template (same segment
    /// shape and verb, variable names ignored) exists: no request could choose between them.
    pub fn add(
        &mut self,
        host: Option<&str>,
        method: Method,
        template: PathTemplate,
        target: T,
    ) -> Result<(), RouteConflict> {
        let table = &mut self.table;
        let host = host.map(normalize_host).filter(|h| !h.is_empty());
        let root = match &host {
            Some(h) => table.by_host.entry(h.clone()).or_default(),
            None => &mut table.any_host,
        };
        let ids = root
            .endpoint_mut(template.segments())
            .entry(template.verb().unwrap_or_default().to_owned());
        let ids = ids.or_default();
        if let Some(&id) = ids.iter().find(|&&id| table.routes[id].method == method) {
            let existing = table.routes[id].template.as_str().to_owned();
            return Err(RouteConflict {
                host,
                method,
                template: template.as_str().to_owned(),
                existing,
            });
        }
        ids.push(table.routes.len());
        if let Some(verb) = template.verb() {
            table.verbs.insert(verb.to_owned());
        }
        table.routes.push(Route {
            method,
            template,
            target,
        });
        Ok(())
    }

    pub fn build(self) -> RouteTable<T> {
        self.table
    }
}

impl<T> RouteTable<T> {
    /// Every route's target, in the order the routes were added.
    pub fn targets(&self) -> impl Iterator<Item = &T> {
        self.routes.iter().map(|route| &route.target)
    }

    /// The same table with every target replaced: what a compiled plan becomes once its clients are
    /// attached, without routing anything again.
    pub fn try_map<U, E>(self, mut f: impl FnMut(T) -> Result<U, E>) -> Result<RouteTable<U>, E> {
        let mut routes = Vec::with_capacity(self.routes.len());
        for route in self.routes {
            routes.push(Route {
                method: route.method,
                template: route.template,
                target: f(route.target)?,
            });
        }
        Ok(RouteTable {
            routes,
            any_host: self.any_host,
            by_host: self.by_host,
            verbs: self.verbs,
        })
    }
}

#[derive(Debug)]
pub struct RouteTable<T> {
    routes: Vec<Route<T>>,
    any_host: Node,
    by_host: HashMap<String, Node>,
    /// Every verb some route uses: a request's last segment is split at `:` only for these.
    verbs: HashSet<String>,
}

#[derive(Debug)]
struct Route<T> {
    method: Method,
    template: PathTemplate,
    target: T,
}

/// Route indices per verb ("" for none; verbs are never empty).
type Endpoints = HashMap<String, Vec<usize>>;

#[derive(Debug, Default)]
struct Node {
    literals: HashMap<String, Node>,
    star: Option<Box<Node>>,
    /// `**` always ends a template, so it needs no node of its own.
    rest: Endpoints,
    /// Routes whose template ends here.
    end: Endpoints,
}

impl Node {
    fn endpoint_mut(&mut self, segments: &[Segment]) -> &mut Endpoints {
        let mut node = self;
        for segment in segments {
            node = match segment {
                Segment::Literal(l) => node.literals.entry(l.clone()).or_default(),
                Segment::Star => node.star.get_or_insert_with(Box::default),
                // The parser guarantees `**` is last.
                Segment::DoubleStar => return &mut node.rest,
            };
        }
        &mut node.end
    }

    /// Offers the routes of every terminal matching `path`, in precedence order, to `visit` until
    /// it accepts one. Each node is entered at most once, so a walk never costs more than the trie.
    fn walk<'n, R>(
        &'n self,
        path: &Path<'_>,
        at: usize,
        visit: &mut impl FnMut(&'n [usize]) -> Option<R>,
    ) -> Option<R> {
        let Some(segment) = path.decoded.get(at) else {
            return path.routes_in(&self.end).and_then(&mut *visit);
        };
        if segment.is_empty() {
            return None;
        }
        let literal = self.literals.get(segment.as_ref());
        for child in literal.into_iter().chain(self.star.as_deref()) {
            if let Some(found) = child.walk(path, at + 1, visit) {
                return Some(found);
            }
        }
        if path.has_empty_from(at) {
            return None;
        }
        path.routes_in(&self.rest).and_then(visit)
    }
}

/// A request path split and decoded for one reading of its verb.
struct Path<'p> {
    decoded: Vec<Cow<'p, str>>,
    verb: &'p str,
    /// The last empty segment, because `**` must not swallow one.
    last_empty: Option<usize>,
}

impl<'p> Path<'p> {
    fn new(raw: &[&'p str], verb: &'p str) -> Self {
        let decoded: Vec<_> = raw.iter().map(|&s| decode(s)).collect();
        let last_empty = decoded.iter().rposition(|s| s.is_empty());
        Path {
            decoded,
            verb,
            last_empty,
        }
    }

    fn has_empty_from(&self, at: usize) -> bool {
        self.last_empty.is_some_and(|e| e >= at)
    }

    fn routes_in<'n>(&self, endpoints: &'n Endpoints) -> Option<&'n [usize]> {
        endpoints.get(self.verb).map(Vec::as_slice)
    }

    /// Single-segment variables decode fully; wider ones keep a decoded `/` as `%2F` so the value
    /// can still be split into its segments (grpc-gateway's reserved expansion).
    fn values(&self, template: &PathTemplate) -> Vec<String> {
        let shape = template.segments();
        let value = |range: std::ops::Range<usize>| {
            let to_end = shape.get(range.end.wrapping_sub(1)) == Some(&Segment::DoubleStar);
            let end = if to_end {
                self.decoded.len()
            } else {
                range.end
            };
            match self.decoded.get(range.start..end).unwrap_or_default() {
                [single] if !to_end => single.to_string(),
                parts => parts
                    .iter()
                    .map(|s| s.replace('/', "%2F"))
                    .collect::<Vec<_>>()
                    .join("/"),
            }
        };
        template
            .variables()
            .iter()
            .map(|v| value(v.segment_range()))
            .collect()
    }
}

impl<T> RouteTable<T> {
    pub fn lookup(&self, host: Option<&str>, method: &Method, path: &str) -> Lookup<'_, T> {
        let Some(rest) = path.strip_prefix('/') else {
            return Lookup::NotFound;
        };
        // "/" is the root, the one path without segments.
        let raw: Vec<&str> = match rest {
            "" => Vec::new(),
            _ => rest.split('/').collect(),
        };
        // Verb first: a verb route beats a plain one. Split on a raw `:`; an encoded one is data.
        let mut readings = Vec::with_capacity(2);
        if let Some((last, verb)) = raw.last().and_then(|s| s.rsplit_once(':'))
            && self.verbs.contains(verb)
        {
            let split = [&raw[..raw.len() - 1], &[last]].concat();
            readings.push(Path::new(&split, verb));
        }
        readings.push(Path::new(&raw, ""));
        let host_root = host.and_then(|h| self.by_host.get(&normalize_host(h)));
        let roots: Vec<&Node> = host_root.into_iter().chain([&self.any_host]).collect();

        // One pass: the walk stops at the first route with this method, so when there is none it
        // has seen every route matching the path, and their methods are the answer for a 405.
        let mut allowed = Vec::new();
        for reading in &readings {
            for root in &roots {
                let found = root.walk(reading, 0, &mut |ids: &[usize]| {
                    let routes = ids.iter().filter_map(|&id| self.routes.get(id));
                    let found = routes.clone().find(|r| r.method == *method);
                    if found.is_none() {
                        allowed.extend(routes.map(|r| r.method.clone()));
                    }
                    found
                });
                if let Some(route) = found {
                    let values = reading.values(&route.template);
                    return Lookup::Found {
                        target: &route.target,
                        values,
                    };
                }
            }
            // A path the verb's routes match belongs to them: another method there is a 405, and a
            // plain variable never takes `name:verb` in their place.
            if !reading.verb.is_empty() && !allowed.is_empty() {
                break;
            }
        }
        if allowed.is_empty() {
            return Lookup::NotFound;
        }
        allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        allowed.dedup();
        Lookup::MethodNotAllowed(allowed)
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// Hosts compare lowercase and without a port, in configuration and in requests alike.
fn normalize_host(host: &str) -> String {
    let host = match host.rsplit_once(':') {
        // `[::1]:8080` has a port; `[::1]` does not, though it contains colons.
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            name
        }
        _ => host,
    };
    host.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "host METHOD template target", `*` for any host.
    const ROUTES: &str = "
        * GET / root
        * GET /v1/shelves list
        * GET /v1/shelves/{id} get_shelf
        * DELETE /v1/shelves/{id} delete_shelf
        * GET /v1/{name=**} any
        * GET /v1/{name=shelves/*}/books/{book} get_book
        * POST /v1/{name=shelves/*}:move move
        * GET /v2/lit/{b}/z v2_lit
        * GET /v2/{a}/x/y v2_any
        * GET /v3/{path=**}:download download
        * GET /v4/{name} v4
        * GET /v4/{name}:info v4_info
        Example.com:443 GET /v1/shelves host_list
        example.com PUT /v1/shelves/{id} host_put";

    /// "host METHOD path => target|value|..." or "=> 405 METHOD..." or "=> 404".
    const LOOKUPS: &str = "
        # Precedence and backtracking; empty segments (a trailing slash) match nothing.
        * GET / => root
        * GET /v1/shelves => list
        * GET /v1/shelves/x => get_shelf|x
        * GET /v1/shelves/1/books => any|shelves/1/books
        * GET /v1/shelves/1/books/2 => get_book|shelves/1|2
        * GET /v2/lit/x/y => v2_any|lit
        * GET /v2/lit/x/z => v2_lit|x
        * GET /v1/shelves/ => 404
        * GET /v1/shelves/1//books => 404
        * GET /v1 => 404
        * GET /v9 => 404
        # Literals compare decoded; `%2F` stays encoded only in multi-segment values.
        * GET /v1/sh%65lves/x => get_shelf|x
        * GET /v1/shelves/a%2Fb => get_shelf|a/b
        * GET /v1/shelves/a%2fb/books => any|shelves/a%2Fb/books
        * GET /v1/shelves/a%2Fb/books/c%2Fd => get_book|shelves/a%2Fb|c/d
        * GET /v1/a%20b/%E2%82%AC => any|a b/€
        * GET /v4/%ff => v4|\u{FFFD}
        * GET /v4/%zz => v4|%zz
        * GET /v4/% => v4|%
        # Verbs: a verb route wins and owns the paths it matches (another method there is a 405, never
        # a plain variable taking `1:move`); where no verb route matches, a plain route takes the whole
        # segment; `%3A` is data.
        * POST /v1/shelves/1:move => move|shelves/1
        * GET /v1/shelves/1:move => 405 POST
        * GET /v1/shelves/1%3Amove => get_shelf|1:move
        * PUT /v1/shelves/1:move => 405 POST
        * GET /v4/a:b => v4|a:b
        * GET /v4/a:info => v4_info|a
        * GET /v4/a:b:info => v4_info|a:b
        * GET /v4/:info => v4|:info
        * GET /v3/a/b:download => download|a/b
        * GET /v3/a/b => 404
        * PUT /v1/shelves/x => 405 DELETE GET
        * POST / => 405 GET
        # Hosts: lowercase, no port, host routes first, host-less routes still apply.
        EXAMPLE.com GET /v1/shelves => host_list
        example.com:8080 PUT /v1/shelves/x => host_put|x
        example.com GET /v1/shelves/x => get_shelf|x
        example.com PATCH /v1/shelves/x => 405 DELETE GET PUT
        other.com GET /v1/shelves => list
        other.com PUT /v1/shelves/x => 405 DELETE GET
        # Malformed paths.
        * GET v1/shelves => 404
        * GET // => 404
        * GET /% => 404
        * GET /: => 404";

    /// Splits "host METHOD rest" into its parts; `*` is no host.
    fn parts(line: &str) -> (Option<&str>, Method, &str) {
        let mut words = line.trim().splitn(3, ' ');
        let mut next = || words.next().unwrap_or_else(|| panic!("short line {line}"));
        let host = Some(next()).filter(|h| *h != "*");
        let method = Method::from_bytes(next().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        (host, method, next())
    }

    /// The lines of a text table, without blanks and `#` comments.
    fn rows(text: &str) -> impl Iterator<Item = &str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    }

    fn parse(template: &str) -> PathTemplate {
        PathTemplate::parse(template).unwrap_or_else(|e| panic!("{e}"))
    }

    fn table() -> RouteTable<String> {
        let mut builder = RouteTableBuilder::new();
        for line in rows(ROUTES) {
            let (host, method, rest) = parts(line);
            let (template, target) = rest.split_once(' ').unwrap_or_else(|| panic!("{line}"));
            let added = builder.add(host, method, parse(template), target.to_owned());
            added.unwrap_or_else(|e| panic!("{e}"));
        }
        builder.build()
    }

    fn render<T: ToString>(lookup: Lookup<'_, T>) -> String {
        match lookup {
            Lookup::Found { target, values } => {
                [vec![target.to_string()], values].concat().join("|")
            }
            Lookup::MethodNotAllowed(methods) => {
                let names: Vec<&str> = methods.iter().map(Method::as_str).collect();
                format!("405 {}", names.join(" "))
            }
            Lookup::NotFound => "404".into(),
        }
    }

    #[test]
    fn lookups() {
        let table = table();
        assert_eq!(table.len(), 14);
        for line in rows(LOOKUPS) {
            let (request, want) = line.split_once(" => ").unwrap_or_else(|| panic!("{line}"));
            let (host, method, path) = parts(request);
            assert_eq!(render(table.lookup(host, &method, path)), want, "{line}");
        }
    }

    #[test]
    fn survives_hostile_paths() {
        let table = table();
        let long = "/v1".to_owned() + &"/a%2F%".repeat(50_000);
        let slashes = "/".repeat(50_000);
        let short = ["", "/v1/\u{0}", "/v1/%C3", "/v1/a:", "/v1/::::"];
        for path in short.into_iter().chain([long.as_str(), &slashes]) {
            for host in [Some("[::1]:80"), Some(":::"), Some(""), None] {
                let _ = table.lookup(host, &Method::GET, path);
            }
        }
        assert!(render(table.lookup(None, &Method::GET, &long)).starts_with("any|a%2F%/a%2F%/"));
    }

    #[test]
    fn conflicts() {
        // "first route | second route => conflict or ok"
        let cases = "
            * GET /a/{x} | * GET /a/* => conflict
            * GET /a/{x} | * POST /a/{y} => ok
            * GET /a/{x=b/*} | * GET /a/b/{y} => conflict
            * GET /a/{x} | * GET /a/{x}:v => ok
            * GET /a/{x}:v | * GET /a/*:v => conflict
            * GET /a/{x=**} | * GET /a/** => conflict
            * GET /a/{x} | * GET /a/b => ok
            * GET /a/b | * GET /a/%62 => conflict
            a.com GET /x | A.COM:80 GET /x => conflict
            a.com GET /x | * GET /x => ok
            a.com GET /x | b.com GET /x => ok";
        for line in rows(cases) {
            let (routes, want) = line.split_once(" => ").unwrap_or_else(|| panic!("{line}"));
            let (first, second) = routes.split_once(" | ").unwrap_or_else(|| panic!("{line}"));
            let conflict = want == "conflict";
            let mut builder = RouteTableBuilder::default();
            let (h1, m1, t1) = parts(first);
            let added = builder.add(h1, m1, parse(t1), 1);
            added.unwrap_or_else(|e| panic!("{e}"));
            let (h2, m2, t2) = parts(second);
            let result = builder.add(h2, m2.clone(), parse(t2), 2);
            assert_eq!(result.is_err(), conflict, "{first} / {second}");
            if let Err(e) = result {
                let host = h2.map(normalize_host).unwrap_or("any host".into());
                for part in [m2.as_str(), t2, t1, &host] {
                    assert!(e.to_string().contains(part), "{e} lacks {part}");
                }
            }
            assert_eq!(builder.build().len(), if conflict { 1 } else { 2 });
        }
    }

    #[test]
    fn thousands_of_routes() {
        let mut builder = RouteTableBuilder::new();
        let mut add = |method, template: &str, target| {
            let added = builder.add(None, method, parse(template), target);
            added.unwrap_or_else(|e| panic!("{e}"));
        };
        add(Method::GET, "/api/{rest=**}", 0);
        for i in 1..=5_000 {
            let template = format!("/api/v{}/svc{i}/items/{{id}}", i % 7);
            add(Method::GET, &template, i);
            add(Method::POST, &format!("{template}:run"), i + 10_000);
        }
        let table = builder.build();
        assert_eq!(table.len(), 10_001);
        let lookup = |method, path: &str| render(table.lookup(None, &method, path));
        for i in (1..=5_000).step_by(7) {
            let path = format!("/api/v{}/svc{i}/items/it{i}", i % 7);
            assert_eq!(lookup(Method::GET, &path), format!("{i}|it{i}"));
            let run = lookup(Method::POST, &format!("{path}:run"));
            assert_eq!(run, format!("{}|it{i}", i + 10_000));
            let other = format!("/api/v{}/svc{i}/items/x", (i + 1) % 7);
            assert_eq!(lookup(Method::GET, &other), format!("0|{}", &other[5..]));
        }
    }
}
