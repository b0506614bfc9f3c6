package session

import (
	"sort"
	"strings"

	"github.com/longboatdb/longboat/sql/catalog"
)

// defaultSetting returns the default of a run-time setting.
func defaultSetting(name string) (string, bool) {
	name = strings.ToLower(name)
	switch name {
	case "read_consistency":
		return "strong", true
	}
	if st, ok := catalog.LookupSetting(name); ok {
		return st.Setting, true
	}
	return "", false
}

func settingNames() []string {
	var out []string
	for _, st := range catalog.Settings() {
		out = append(out, st.Name)
	}
	out = append(out, "read_consistency")
	sort.Strings(out)
	return out
}
