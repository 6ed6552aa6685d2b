# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests: Debian packages of a given suite, fetched without the host's apt configuration.
#   debian_debs_fetch DIR MIRROR SUITE PKG...
#       Downloads PKG... (each may be PKG/SUITE or PKG=VERSION as apt-get download takes them) from
#       "deb MIRROR SUITE main" with an apt state of their own under DIR/apt (the host's sources and
#       status are not used; the index is checked against the host's trusted Debian archive keys, as
#       apt checks any), unpacks each into DIR/root and adds "Package Version" lines to DIR/versions.
#       Once: DIR/.done marks a finished fetch and later calls return at once. apt's output is kept
#       in DIR/download.log, whose last lines are printed on a failure (return 1). The caller holds
#       a lock when several tests may fetch into the same DIR. Each connection gives up after 60 s
#       without progress, retried twice (apt's own default would wait on a stalled mirror far longer).
debian_debs_fetch() {
        local dir=$1 mirror=$2 suite=$3 apt d
        shift 3
        [ -e "$dir/.done" ] && return 0
        rm -rf "$dir" && mkdir -p "$dir" || return 1
        apt=$dir/apt
        mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
        echo "deb $mirror $suite main" >"$apt/sources.list"
        local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
                -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Dir::State::status=/dev/null
                -o APT::Sandbox::User=root -o Debug::NoLocking=1 -o Acquire::http::Timeout=60 -o Acquire::Retries=2 -q)
        { apt-get "${opts[@]}" update && (cd "$apt/debs" && apt-get "${opts[@]}" download "$@"); } \
                >"$dir/download.log" 2>&1 || {
                echo "debian-debs: fetching $* from $mirror $suite failed:" >&2
                tail -n 5 "$dir/download.log" >&2
                return 1
        }
        for d in "$apt"/debs/*.deb; do
                dpkg-deb -x "$d" "$dir/root" || return 1
                dpkg-deb -f "$d" Package Version | paste -sd' ' >>"$dir/versions"
        done
        rm -rf "$apt"
        touch "$dir/.done"
}
