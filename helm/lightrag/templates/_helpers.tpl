{{/* Names, labels and the rules the schema cannot express. */}}

{{- define "lightrag.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lightrag.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "lightrag.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lightrag.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "lightrag.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "lightrag.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
lightrag.io/recipe: {{ .Values.recipe | quote }}
{{- end -}}

{{- define "lightrag.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "lightrag.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The recipes shipped in the image (recipes/*.yaml); CI checks this list against them. */}}
{{- define "lightrag.packagedRecipes" -}}
azure-openai embedded lollms mongo neo4j ollama-local openai openai-ollama postgres postgres-ha redis-milvus tidb
{{- end -}}

{{/* Recipes whose every storage is a shared database (values.schema.json has the same list). */}}
{{- define "lightrag.sharedRecipes" -}}
mongo neo4j postgres postgres-ha redis-milvus tidb
{{- end -}}

{{/* Recipes choosing a shared coordination, postgres or redis (values.schema.json too). */}}
{{- define "lightrag.coordinatedRecipes" -}}
neo4j postgres postgres-ha redis-milvus
{{- end -}}

{{/* "true" when the storages are shared databases: storage.shared, else by recipe. */}}
{{- define "lightrag.sharedStorage" -}}
{{- if kindIs "bool" .Values.storage.shared -}}
{{- .Values.storage.shared -}}
{{- else -}}
{{- has .Values.recipe (splitList " " (include "lightrag.sharedRecipes" .)) -}}
{{- end -}}
{{- end -}}

{{/* "true" when replicas coordinate through a database: coordination, else by recipe. */}}
{{- define "lightrag.sharedCoordination" -}}
{{- if kindIs "string" .Values.coordination -}}
{{- ne .Values.coordination "local" -}}
{{- else -}}
{{- has .Values.recipe (splitList " " (include "lightrag.coordinatedRecipes" .)) -}}
{{- end -}}
{{- end -}}

{{/* "true" when pods may run side by side: shared storages and shared coordination. */}}
{{- define "lightrag.scaleOut" -}}
{{- and (eq (include "lightrag.sharedStorage" .) "true") (eq (include "lightrag.sharedCoordination" .) "true") -}}
{{- end -}}

{{/* Fail early on what the schema cannot see. */}}
{{- define "lightrag.validate" -}}
{{- $packaged := splitList " " (include "lightrag.packagedRecipes" .) -}}
{{- if not (or (has .Values.recipe $packaged) (hasKey .Values.extraRecipes .Values.recipe)) -}}
{{- fail (printf "recipe %q is neither packaged (%s) nor a key of extraRecipes" .Values.recipe (join ", " $packaged)) -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (ne (include "lightrag.sharedStorage" .) "true") -}}
{{- fail (printf "replicaCount %d needs shared storages: recipe %q keeps file storages, which belong to one process (set storage.shared=true only if every storage is a database)" (int .Values.replicaCount) .Values.recipe) -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (ne (include "lightrag.sharedCoordination" .) "true") -}}
{{- fail (printf "replicaCount %d needs a shared coordination: set coordination to postgres or redis (recipe %q coordinates one process only)" (int .Values.replicaCount) .Values.recipe) -}}
{{- end -}}
{{- range .Values.overrides -}}
{{- if regexMatch "^[+~]{0,2}coordination(=|$)" . -}}
{{- fail (printf "override %q: choose the coordination with the coordination value (the chart checks replicaCount against it), not in overrides" .) -}}
{{- end -}}
{{- if regexMatch "^[+~]{0,2}server\\.replicas(=|$)" . -}}
{{- fail (printf "override %q: the chart sets server.replicas (LIGHTRAG_REPLICAS) from replicaCount" .) -}}
{{- end -}}
{{- end -}}
{{- range $name := list "LIGHTRAG_REPLICAS" "LIGHTRAG_COORDINATION" -}}
{{- if hasKey ($.Values.env | default dict) $name -}}
{{- fail (printf "env.%s: the chart sets it (from replicaCount, coordination); set those values instead" $name) -}}
{{- end -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) .Values.persistence.enabled (not (has "ReadWriteMany" .Values.persistence.accessModes)) -}}
{{- fail "replicaCount > 1 with persistence.enabled needs persistence.accessModes [ReadWriteMany] (or persistence.enabled=false: shared storages keep no data in /data)" -}}
{{- end -}}
{{- end -}}

{{/* What the pods read at start-up: a change rolls them (checksum/config). */}}
{{- define "lightrag.configChecksum" -}}
{{- dict "recipe" .Values.recipe "overrides" .Values.overrides "env" .Values.env "extraRecipes" .Values.extraRecipes "existingSecret" .Values.existingSecret "secretKeys" .Values.secretKeys | toJson | sha256sum -}}
{{- end -}}
