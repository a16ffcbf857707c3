{{/* Name of every object: the release name, unless fullnameOverride is set. */}}
{{- define "streamcluster-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "streamcluster-operator.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/* Labels that select the operator pods; they never change after installation. */}}
{{- define "streamcluster-operator.selectorLabels" -}}
app.kubernetes.io/name: streamcluster-operator
app.kubernetes.io/instance: {{ include "streamcluster-operator.fullname" . }}
{{- end -}}

{{/* Labels of every object, the same as cdk8s/install.ts sets plus Helm's own. */}}
{{- define "streamcluster-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{ include "streamcluster-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ include "streamcluster-operator.tag" . | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: streamcluster
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
