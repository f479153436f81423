// Kept apart from k8s-mode.ts so --help does not load the Kubernetes client.
export const K8S_HELP = `Kubernetes (like kubectl gadget; the default when run as kubectl otel-profiles):
      --k8s                   reach every node's gadget pod through the Kubernetes API server
      --kubeconfig FILE       kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)
      --context NAME          kubeconfig context
      --gadget-namespace NS   where IG runs (default gadget)
      --node NAME             only the gadget pod on this node`;
