package v1alpha1

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses durations as Kuma's CA settings write them: Go durations plus days (`d`)
// and 365-day years (`y`), in any combination: `24h`, `1d`, `10y`, `1d12h`, `90m`.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, errors.New("empty duration")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	var total float64 // seconds; float so that overflow is detectable rather than wrapping
	var rest strings.Builder
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		j := i
		for j < len(s) && !(s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		num, unit := s[:i], s[i:j]
		s = s[j:]
		switch unit {
		case "d", "y":
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, errors.New("invalid duration " + strconv.Quote(orig))
			}
			days := v
			if unit == "y" {
				days *= 365
			}
			total += days * 24 * 3600
		default:
			rest.WriteString(num)
			rest.WriteString(unit)
		}
	}
	if rest.Len() > 0 {
		d, err := time.ParseDuration(rest.String())
		if err != nil {
			return 0, errors.New("invalid duration " + strconv.Quote(orig))
		}
		total += d.Seconds()
	}
	if total*1e9 > math.MaxInt64 {
		return 0, errors.New("duration out of range " + strconv.Quote(orig))
	}
	d := time.Duration(math.Round(total * 1e9))
	if neg {
		d = -d
	}
	return d, nil
}
