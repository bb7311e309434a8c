#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian kernels this package is built and tested for, by series:
#
#   6.1   Debian 12 (bookworm): the host's own packages (make deps installs
#         linux-image-amd64 and linux-headers-amd64 from its sources)
#   6.12  Debian 13 (trixie), the current stable: the default of make check
#   7.3   trixie-backports
#
# 6.12 and 7.3 are fetched with a private apt configuration (own sources
# list, lists, package cache and an empty dpkg status) whose URI is the
# Debian mirror already configured for this machine's own release (read
# from /etc/apt at run time; IPVTAP_DEBIAN_MIRROR overrides it). The
# system's apt sources are never changed and nothing is installed: the
# packages (linux-image/-binary/-modules/-base, linux-headers-*-amd64,
# -common, linux-kbuild) are unpacked with dpkg-deb -x into
#
#   ${IPVTAP_CACHE:-/var/cache/ipvtap}/kernels/
#     apt/                 the private apt configuration and its state
#     debs/                downloaded packages
#     <release>/           one unpacked kernel (done: complete)
#       boot/vmlinuz-<release>
#       lib/modules/<release>/     with modules.dep (depmod run here)
#       usr/src/linux-headers-<release>/   KDIR; its symlinks and Makefile
#                                  point inside this directory
#     series-<series>      -> <release>: what the series resolved to
#
# Usage:
#   tools/kernels.sh fetch [SERIES...]  fetch (once) the given series (default
#                                       all but 6.1); offline when cached
#   tools/kernels.sh update [SERIES...] resolve again against the mirror (a
#                                       newer point release) and fetch it
#   tools/kernels.sh kdir SERIES        print the headers build tree (KDIR)
#   tools/kernels.sh kernel SERIES      print the vmlinuz path
#   tools/kernels.sh modules-dir SERIES print .../lib/modules/<release>
#   tools/kernels.sh release SERIES     print the release (uname -r)
#   tools/kernels.sh vm-args SERIES     print "--kernel K --modules-dir D"
#   tools/kernels.sh source SERIES      print the path of the series' Debian
#                                       linux-source-<X.Y>.tar.xz, of the same
#                                       version as its kernel (make interop:
#                                       the kernel's own selftests); 6.1: the
#                                       host's /usr/src (make deps), others:
#                                       fetched (once, ~170 MB) and unpacked
#                                       with dpkg-deb -x into
#                                       $IPVTAP_CACHE/interop-src/
#   tools/kernels.sh list               print every known series and state
#
# The query commands fetch first if the series is not cached yet. Works
# with no stdin (CI=true); concurrent invocations serialize on a lock.
set -euo pipefail
shopt -s inherit_errexit

PROG=tools/kernels.sh
ALL_SERIES=(6.1 6.12 7.3)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

# suites_of SERIES: the Debian suites the series comes from ("host" for
# the machine's own).
suites_of() {
	case $1 in
	6.1) echo host ;;
	6.12) echo trixie ;;
	7.3) echo trixie-backports ;;
	*) die "unknown kernel series '$1' (known: ${ALL_SERIES[*]})" ;;
	esac
}

cache_root() {
	local d=${IPVTAP_CACHE:-/var/cache/ipvtap}

	if ! mkdir -p "$d" 2>/dev/null || [ ! -w "$d" ]; then
		[ -z "${IPVTAP_CACHE:-}" ] || die "cache directory '$d' is not writable"
		d=${XDG_CACHE_HOME:-$HOME/.cache}/ipvtap
		mkdir -p "$d" || die "cannot create cache directory '$d'"
	fi
	(cd "$d" && pwd)
}

KC=$(cache_root)/kernels
APTD=$KC/apt
mkdir -p "$KC"

# ------------------------------------------------------------ host (6.1)

# host_release SERIES: the highest release of the series with an image,
# modules and headers installed on this machine.
host_release() {
	local s=$1 k rel best=''

	for k in /boot/vmlinuz-"$s".*-amd64; do
		[ -f "$k" ] || continue
		rel=${k#/boot/vmlinuz-}
		[ -f "/lib/modules/$rel/modules.dep" ] || continue
		[ -f "/usr/src/linux-headers-$rel/Makefile" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n1)
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# ------------------------------------------------------- private apt

# The URI of the Debian archive in this machine's own apt sources: the
# first source whose suites include the release's codename.
mirror_uri() {
	local codename f uri

	if [ -n "${IPVTAP_DEBIAN_MIRROR:-}" ]; then
		echo "$IPVTAP_DEBIAN_MIRROR"
		return
	fi
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "cannot tell this machine's Debian codename (/etc/os-release)"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: stanzas separated by blank lines.
		uri=$(awk -v c="$codename" '
			BEGIN { RS = ""; FS = "\n" }
			{
				u = ""; ok = 0; deb = 0
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); u = a[2] }
					if ($i ~ /^Types:/ && $i ~ /(^|[ \t])deb([ \t]|$)/) deb = 1
					if ($i ~ /^Suites:/) {
						n = split($i, s, /[ \t]+/)
						for (j = 2; j <= n; j++) if (s[j] == c) ok = 1
					}
				}
				if (u != "" && ok && deb) { print u; exit }
			}' "$f")
		[ -z "$uri" ] || { echo "${uri%/}"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk -v c="$codename" '
			/^[ \t]*deb[ \t]/ {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == c) { print $i; exit }
			}' "$f")
		[ -z "$uri" ] || { echo "${uri%/}"; return; }
	done
	die "no apt source for '$codename' in /etc/apt (set IPVTAP_DEBIAN_MIRROR)"
}

APT_OPTS=()
apt_setup() {
	local uri

	mkdir -p "$APTD"/{etc/sources.list.d,etc/preferences.d,lists/partial,cache/archives/partial}
	[ -f "$APTD/status" ] || : >"$APTD/status"
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$APTD/etc/sources.list"
		-o "Dir::Etc::SourceParts=$APTD/etc/sources.list.d"
		-o "Dir::Etc::Preferences=$APTD/etc/preferences"
		-o "Dir::Etc::PreferencesParts=$APTD/etc/preferences.d"
		-o "Dir::State=$APTD"
		-o "Dir::State::Lists=$APTD/lists"
		-o "Dir::State::status=$APTD/status"
		-o "Dir::Cache=$APTD/cache"
		-o "Dir::Cache::archives=$APTD/cache/archives"
		-o "APT::Architecture=amd64"
		-o "APT::Architectures::=amd64"
		-o "Acquire::Languages=none"
		-o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=root"
	)
	[ -f "$APTD/etc/sources.list" ] && [ -f "$APTD/updated" ] && return
	uri=$(mirror_uri)
	[ -r "$KEYRING" ] || die "$KEYRING missing (debian-archive-keyring)"
	{
		echo "# written by $PROG: the machine's Debian mirror, other suites"
		echo "deb [signed-by=$KEYRING] $uri trixie main"
		echo "deb [signed-by=$KEYRING] $uri trixie-backports main"
	} >"$APTD/etc/sources.list"
}

apt_update() {
	info "updating the private package lists ($APTD)"
	apt-get "${APT_OPTS[@]}" -q update </dev/null >"$APTD/update.log" 2>&1 ||
		{ tail -n 20 "$APTD/update.log" >&2; die "apt-get update (private lists) failed"; }
	touch "$APTD/updated"
}

# pkg_field PKG VERSION FIELD
pkg_field() {
	apt-cache "${APT_OPTS[@]}" show "$1=$2" 2>/dev/null |
		awk -v f="$3:" '$1 == f { sub(/^[^:]*: */, ""); print; exit }'
}

# pkg_versions PKG: versions available, one a line.
pkg_versions() {
	apt-cache "${APT_OPTS[@]}" madison "$1" 2>/dev/null | awk -F' *\\| *' '{print $2 "\t" $3}'
}

# resolve SERIES SUITE: print "ABI VERSION" of the newest release of the
# series in the suite that has both an image and headers package, e.g.
# "6.12.117+deb13 6.12.117-1".
resolve() {
	local s=$1 suite=$2 abi ver best='' bestver='' line

	while read -r abi; do
		while IFS=$'\t' read -r ver line; do
			case $line in
			*" $suite/"*) ;;
			*) continue ;;
			esac
			pkg_versions "linux-headers-$abi-amd64" | cut -f1 |
				grep -Fqx "$ver" || continue
			if [ -z "$best" ] ||
			   [ "$(printf '%s\n%s\n' "$best" "$abi" | sort -V | tail -n1)" = "$abi" ]; then
				best=$abi bestver=$ver
			fi
		done < <(pkg_versions "linux-image-$abi-amd64")
	done < <(apt-cache "${APT_OPTS[@]}" pkgnames "linux-image-$s." 2>/dev/null |
		sed -n "s/^linux-image-\\($s\\.[0-9]*+deb[0-9]*\\)-amd64\$/\\1/p" | sort -uV)
	[ -n "$best" ] || return 1
	echo "$best $bestver"
}

# closure ABI VERSION: the packages to unpack: the image and headers and,
# recursively, their dependencies that belong to this kernel build (names
# starting with "linux-" and containing ABI).
closure() {
	local abi=$1 ver=$2 p d dep
	local -a todo=("linux-image-$abi-amd64" "linux-headers-$abi-amd64")
	local -A seen=()

	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		[ -z "${seen[$p]:-}" ] || continue
		seen[$p]=1
		echo "$p"
		for d in Depends Pre-Depends; do
			pkg_field "$p" "$ver" "$d" | tr ',' '\n' | while read -r dep; do
				dep=${dep%%|*}
				dep=${dep%% *}
				case $dep in
				linux-*"$abi"*) echo "$dep" ;;
				esac
			done
		done >"$APTD/deps.tmp"
		mapfile -t -O ${#todo[@]} todo <"$APTD/deps.tmp"
	done
	rm -f "$APTD/deps.tmp"
}

# ------------------------------------------------------------- unpack

# relocate ROOT FINAL: make every absolute symlink under ROOT that points
# into /usr or /lib relative, so it resolves inside ROOT; point the
# absolute /usr/src paths of the headers' Makefiles (include, and
# KBUILD_OUTPUT since 7.x) into FINAL (where ROOT is moved to).
relocate() {
	local root=$1 final=$2 l t dir rel

	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		case $t in
		/usr/*|/lib/*) ;;
		*) continue ;;
		esac
		dir=$(dirname "${l#"$root"}")
		rel=$(realpath -m --relative-to="$dir" "$t")
		ln -sfn "$rel" "$l"
	done < <(find "$root" -type l -print0)
	while IFS= read -r -d '' l; do
		grep -q '/usr/src/' "$l" || continue
		sed -i "s|\\([[:space:]=]\\)/usr/src/|\\1$final/usr/src/|g" "$l"
	done < <(find "$root/usr/src" -maxdepth 2 -name Makefile -print0)
}

# glibc_needed FILE: the highest GLIBC_x.y symbol version FILE needs
# (nothing for a file that is not a dynamic ELF).
glibc_needed() {
	{ objdump -T "$1" 2>/dev/null || true; } | { grep -o 'GLIBC_[0-9.]*' || true; } |
		sed 's/GLIBC_//' | sort -uV | tail -n1
}

# newer_than_host VERSION: true if VERSION (x.y) is above this machine's glibc.
newer_than_host() {
	local host

	host=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
	[ "$1" != "$host" ] && [ "$(printf '%s\n%s\n' "$host" "$1" | sort -V | tail -n1)" = "$1" ]
}

# private_libc: unpack the private suites' libc6 (once) into $KC/libc6-<ver>;
# print that directory.
private_libc() {
	local ver dir deb

	ver=$(apt-cache "${APT_OPTS[@]}" policy libc6 | awk '/Candidate:/ {print $2}')
	case $ver in ''|'(none)') die "no libc6 in the private package lists" ;; esac
	dir=$KC/libc6-$ver
	if [ ! -f "$dir/done" ]; then
		(cd "$KC/debs" && apt-get "${APT_OPTS[@]}" -q download "libc6=$ver" </dev/null >/dev/null) ||
			die "apt-get download libc6=$ver failed"
		deb=$(compgen -G "$KC/debs/libc6_*.deb" | sort -V | tail -n1)
		rm -rf "$dir"
		dpkg-deb -x "$deb" "$dir"
		touch "$dir/done"
	fi
	echo "$dir"
}

# wrap_tools ROOT FINAL: the kbuild tools (modpost, objtool, ...) of a
# newer Debian release may need a newer glibc than this machine's (trixie's
# need 2.38, bookworm has 2.36). Run each such program with that release's
# own C library, unpacked privately, through its dynamic loader: the
# program is renamed <name>.bin and <name> becomes a wrapper script.
wrap_tools() {
	local root=$1 final=$2 f need libc ld libdir

	while IFS= read -r -d '' f; do
		need=$(glibc_needed "$f")
		[ -n "$need" ] || continue
		newer_than_host "$need" || continue
		if [ -z "${libc:-}" ]; then
			libc=$(private_libc)
			ld=$(find "$libc" -name 'ld-linux-x86-64.so.2' | head -n1)
			libdir=$(dirname "$(find "$libc" -name 'libc.so.6' | head -n1)")
			[ -n "$ld" ] || die "no dynamic loader in $libc"
		fi
		mv "$f" "$f.bin"
		{
			echo '#!/bin/sh'
			echo "# $PROG: needs glibc $need; run with $(basename "$libc")'s C library"
			echo "exec $ld --library-path $libdir:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu \\"
			echo "	--argv0 \"\$0\" ${final}${f#"$root"}.bin \"\$@\""
		} >"$f"
		chmod 755 "$f"
	done < <(find "$root"/usr/lib/linux-kbuild-* -type f -perm -u+x -print0)
}

# unpack ABI VERSION: download and unpack into $KC/<release>; print the
# release.
unpack() {
	local abi=$1 ver=$2 rel=$1-amd64 dir tmp p deb n=0
	local -a pkgs

	dir=$KC/$rel
	if [ -f "$dir/done" ]; then
		echo "$rel"
		return
	fi
	mapfile -t pkgs < <(closure "$abi" "$ver")
	info "$rel: fetching ${pkgs[*]}"
	mkdir -p "$KC/debs"
	(
		cd "$KC/debs"
		for p in "${pkgs[@]}"; do
			compgen -G "${p}_*.deb" >/dev/null && continue
			apt-get "${APT_OPTS[@]}" -q download "$p" </dev/null >/dev/null ||
				die "apt-get download $p failed"
		done
	)
	tmp=$dir.tmp
	rm -rf "$tmp" "$dir"
	mkdir -p "$tmp"
	for p in "${pkgs[@]}"; do
		deb=$(compgen -G "$KC/debs/${p}_*.deb" | sort -V | tail -n1)
		[ -n "$deb" ] || die "no package file for $p"
		dpkg-deb -x "$deb" "$tmp"
		n=$((n + 1))
	done
	# Modules under /usr/lib/modules (merged /usr) are found at /lib/modules.
	if [ ! -d "$tmp/lib/modules/$rel" ] && [ -d "$tmp/usr/lib/modules/$rel" ]; then
		if [ -d "$tmp/lib" ]; then
			ln -sfn "../usr/lib/modules" "$tmp/lib/modules"
		else
			ln -sfn usr/lib "$tmp/lib"
		fi
	fi
	# 7.x packages the image as /usr/lib/modules/<release>/vmlinuz.
	if [ ! -e "$tmp/boot/vmlinuz-$rel" ] && [ -f "$tmp/lib/modules/$rel/vmlinuz" ]; then
		mkdir -p "$tmp/boot"
		ln -sfn "../lib/modules/$rel/vmlinuz" "$tmp/boot/vmlinuz-$rel"
	fi
	relocate "$tmp" "$dir"
	wrap_tools "$tmp" "$dir"
	ln -sfn "../../../usr/src/linux-headers-$rel" "$tmp/lib/modules/$rel/build"
	[ -f "$tmp/boot/vmlinuz-$rel" ] || die "$rel: no boot/vmlinuz-$rel in the packages"
	[ -d "$tmp/lib/modules/$rel/kernel" ] || die "$rel: no modules in the packages"
	[ -f "$tmp/usr/src/linux-headers-$rel/Makefile" ] || die "$rel: no headers in the packages"
	depmod -b "$tmp" "$rel" || die "$rel: depmod failed"
	mv "$tmp" "$dir"
	echo "$ver" >"$dir/version"
	touch "$dir/done"
	info "$rel: unpacked $n packages into $dir"
	echo "$rel"
}

# ------------------------------------------------------------- series

# fetch SERIES [update]: make sure the series is cached; print its release.
fetch() {
	local s=$1 upd=${2:-} suite link rel abi ver

	suite=$(suites_of "$s")
	if [ "$suite" = host ]; then
		host_release "$s" ||
			die "no Debian $s kernel installed (image, modules.dep and headers); run 'make deps'"
		return
	fi
	link=$KC/series-$s
	if [ -z "$upd" ] && [ -L "$link" ] && [ -f "$KC/$(readlink "$link")/done" ]; then
		readlink "$link"
		return
	fi
	exec 9>"$KC/.lock"
	flock 9
	if [ -z "$upd" ] && [ -L "$link" ] && [ -f "$KC/$(readlink "$link")/done" ]; then
		exec 9>&-
		readlink "$link"
		return
	fi
	for t in apt-get apt-cache dpkg-deb depmod flock realpath objdump getconf; do
		command -v "$t" >/dev/null || die "'$t' not found"
	done
	apt_setup
	if [ ! -f "$APTD/updated" ] || [ -n "$upd" ]; then
		apt_update
	fi
	read -r abi ver < <(resolve "$s" "$suite" || true) ||
		die "no linux-image/linux-headers $s.* in $suite"
	rel=$(unpack "$abi" "$ver")
	ln -sfn "$rel" "$link.tmp"
	mv -T "$link.tmp" "$link"
	exec 9>&-
	echo "$rel"
}

# source_of SERIES: fetch (once) the linux-source-<X.Y> package of the same
# Debian version as the series' kernel and unpack it with dpkg-deb -x into
# $IPVTAP_CACHE/interop-src (its /usr/src/linux-source-<X.Y>.tar.xz, which
# tools/interop.sh looks for there); print the tarball's path. The host's
# series (6.1) comes from make deps (linux-source-6.1 installed).
source_of() {
	local s=$1 rel ver dir tb stamp p deb

	if [ "$(suites_of "$s")" = host ]; then
		tb=/usr/src/linux-source-$s.tar.xz
		[ -f "$tb" ] || die "$tb missing: install Debian's linux-source-$s (make deps)"
		echo "$tb"
		return
	fi
	rel=$(fetch "$s")
	ver=$(cat "$KC/$rel/version")
	dir=$(dirname "$KC")/interop-src
	tb=$dir/usr/src/linux-source-$s.tar.xz
	stamp=$dir/.linux-source-$s-$ver
	if [ -f "$stamp" ] && [ -f "$tb" ]; then
		echo "$tb"
		return
	fi
	exec 9>"$KC/.lock"
	flock 9
	if [ ! -f "$stamp" ] || [ ! -f "$tb" ]; then
		apt_setup
		[ -f "$APTD/updated" ] || apt_update
		p=linux-source-$s
		# This version's package file (apt-get download's name; no
		# epoch in these versions), not one left from an older release.
		deb=$KC/debs/${p}_${ver}_all.deb
		if [ ! -f "$deb" ]; then
			info "fetching $p=$ver (the kernel's own selftests, for make interop)"
			mkdir -p "$KC/debs"
			(cd "$KC/debs" && apt-get "${APT_OPTS[@]}" -q download "$p=$ver" </dev/null >/dev/null) ||
				die "apt-get download $p=$ver failed"
			[ -f "$deb" ] || die "apt-get download $p=$ver gave no $deb"
		fi
		rm -f "$dir"/.linux-source-"$s"-* "$tb"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		[ -f "$tb" ] || die "$deb has no usr/src/linux-source-$s.tar.xz"
		touch "$stamp"
		info "$p=$ver unpacked into $dir"
	fi
	exec 9>&-
	echo "$tb"
}

# dir_of SERIES: root of the series' files ("" for the host's).
root_of() {
	case $(suites_of "$1") in
	host) echo "" ;;
	*) echo "$KC/$2" ;;
	esac
}

query() {
	local what=$1 s=$2 rel root

	rel=$(fetch "$s")
	root=$(root_of "$s" "$rel")
	case $what in
	release) echo "$rel" ;;
	kdir)
		if [ -z "$root" ]; then
			echo "/usr/src/linux-headers-$rel"
		else
			echo "$root/usr/src/linux-headers-$rel"
		fi
		;;
	kernel) echo "$root/boot/vmlinuz-$rel" ;;
	modules-dir) echo "$root/lib/modules/$rel" ;;
	vm-args) echo "--kernel $root/boot/vmlinuz-$rel --modules-dir $root/lib/modules/$rel" ;;
	esac
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case $cmd in
fetch|update)
	[ $# -gt 0 ] || set -- "${ALL_SERIES[@]:1}"
	for s in "$@"; do
		rel=$(fetch "$s" "$([ "$cmd" = update ] && echo 1)")
		info "$s: $rel"
	done
	;;
kdir|kernel|modules-dir|release|vm-args)
	[ $# -eq 1 ] || die "$cmd takes one series (${ALL_SERIES[*]})"
	query "$cmd" "$1"
	;;
source)
	[ $# -eq 1 ] || die "$cmd takes one series (${ALL_SERIES[*]})"
	source_of "$1"
	;;
list)
	for s in "${ALL_SERIES[@]}"; do
		if [ "$(suites_of "$s")" = host ]; then
			printf '%-5s %-10s %s\n' "$s" host "$(host_release "$s" || echo '(not installed: make deps)')"
		elif [ -L "$KC/series-$s" ]; then
			printf '%-5s %-10s %s\n' "$s" "$(suites_of "$s")" "$(readlink "$KC/series-$s")"
		else
			printf '%-5s %-10s %s\n' "$s" "$(suites_of "$s")" "(not fetched)"
		fi
	done
	;;
-h|--help) usage 0 ;;
*) usage 2 ;;
esac
