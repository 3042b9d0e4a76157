{{- define "qlik-mcp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "qlik-mcp.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "qlik-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* cache.ttl / cache.stale as the CLASS=SECONDS list of QLIK_MCP_CACHE_TTL / _STALE. */}}
{{- define "qlik-mcp.cacheClasses" -}}
{{- $items := list -}}
{{- range $class, $seconds := . -}}
{{- $items = append $items (printf "%s=%v" $class $seconds) -}}
{{- end -}}
{{- join "," $items -}}
{{- end -}}
