# shellcheck shell=bash
# Cutting the benchmark day into slices at record starts; sourced by run.sh
# and profile.sh. Formats are named by the day's file extensions: csv
# (csvlog), json (jsonlog), log (stderr with log_line_prefix '%m [%p] ').

# A line that starts a record of format $1 (an awk regex; mawk knows no {n}).
record_start() {
    local ts='^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+ [A-Z]+'
    case $1 in
        csv) echo "$ts,";;
        json) echo '^[{]';;
        # Not DETAIL:, STATEMENT: and the like: they belong to the record before.
        log) echo "$ts \\[[0-9]+\\] (DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC):  ";;
        *) echo "unknown format $1" >&2; return 1;;
    esac
}

# The first $3 lines of file $2 in format $1, up to the next record start.
head_lines() {
    awk -v n="$3" -v re="$(record_start "$1")" 'NR > n && $0 ~ re { exit } { print }' "$2"
}

# The records that start in the first $2 MB of the csvlog $1 and are whole
# there: the server wrote the records in the same order to each format's
# file, so the same number of records from each file are the same records.
records_in_head() {
    head -c "$(( $2 * 1000000 ))" "$1" \
        | awk -v re="$(record_start csv)" '$0 ~ re { r++ } END { print (r > 0 ? r - 1 : 0) }'
}

# Records $3 + 1 to $3 + $4 of file $2 in format $1.
middle_records() {
    awk -v skip="$3" -v k="$4" -v re="$(record_start "$1")" \
        '$0 ~ re { r++; if (r > skip + k) exit } r > skip { print }' "$2"
}

# Writes day.csv, day.json and day.log of directory $3 with the same records:
# those in the first $2 MB of $1/day.csv, or with $4 (MB), those in the $2
# MB after the first $4 MB.
cut_day() {
    local records skip=0 f
    mkdir -p "$3"
    records=$(records_in_head "$1/day.csv" "$(( ${4:-0} + $2 ))")
    if [ "${4:-0}" -gt 0 ]; then
        skip=$(records_in_head "$1/day.csv" "$4")
    fi
    for f in csv json log; do
        middle_records "$f" "$1/day.$f" "$skip" "$(( records - skip ))" > "$3/day.$f.tmp"
        mv "$3/day.$f.tmp" "$3/day.$f"
    done
}

# Whether $1 is missing or older than $2 (which it is made from).
stale() { [ ! -s "$1" ] || [ "$2" -nt "$1" ]; }
