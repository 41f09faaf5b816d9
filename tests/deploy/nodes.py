"""The EC2 node types docs/DEPLOY.md recommends, and what a pod can request on each of them.

Allocatable follows the EKS-optimised AMI's bootstrap (``kube-reserved`` and ``eviction-hard``), and the pods'
room is what is left after the DaemonSets every node runs. Figures a real node shows can differ a little
(``kubectl describe node``): that, and the DaemonSets' real requests, only a cluster can show.
"""

import re
from dataclasses import dataclass
from typing import Final

MIB: Final = 1024 * 1024
GIB: Final = 1024 * MIB

EVICTION_HARD_MIB: Final = 100
"""The AMI's ``--eviction-hard memory.available<100Mi``."""
KERNEL_MEMORY_FRACTION: Final = 0.05
"""Memory the kernel and firmware keep before the kubelet sees capacity: nodes report about 95-97 % of the
nominal size; 5 % errs on the side of not scheduling."""
DAEMONSET_CPU_M: Final = 400
DAEMONSET_MEMORY_MIB: Final = 1024
"""Room left for the per-node DaemonSets: aws-node and its network-policy agent, kube-proxy, the EBS CSI node
plugin, eks-pod-identity-agent, the NVIDIA device plugin and GPU feature discovery, node-exporter and the DCGM
exporter. Their charts request about 250m CPU and 600 MiB together; this keeps a margin."""


@dataclass(frozen=True)
class NodeType:
    name: str
    vcpus: int
    memory_gib: int
    max_pods: int
    """The VPC CNI's limit for the type (ENIs x (IPs per ENI - 1) + 2): it sizes kube-reserved memory."""
    gpus: int = 0

    @property
    def kube_reserved_cpu_m(self) -> int:
        """6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of the rest."""
        shares = [60, 10, 5, 5] + [2.5] * max(0, self.vcpus - 4)
        return round(sum(shares[: self.vcpus]))

    @property
    def kube_reserved_memory_mib(self) -> int:
        return 255 + 11 * self.max_pods

    @property
    def allocatable_cpu_m(self) -> int:
        return self.vcpus * 1000 - self.kube_reserved_cpu_m

    @property
    def allocatable_memory_bytes(self) -> int:
        capacity = self.memory_gib * GIB * (1 - KERNEL_MEMORY_FRACTION)
        return int(capacity) - (self.kube_reserved_memory_mib + EVICTION_HARD_MIB) * MIB

    @property
    def room_cpu_m(self) -> int:
        """CPU our pods may request on one node, after the DaemonSets."""
        return self.allocatable_cpu_m - DAEMONSET_CPU_M

    @property
    def room_memory_bytes(self) -> int:
        return self.allocatable_memory_bytes - DAEMONSET_MEMORY_MIB * MIB


NODE_TYPES: Final = {
    node.name: node
    for node in (
        NodeType("g5.xlarge", vcpus=4, memory_gib=16, max_pods=58, gpus=1),  # NVIDIA A10G
        NodeType("g6.xlarge", vcpus=4, memory_gib=16, max_pods=58, gpus=1),  # NVIDIA L4
        NodeType("m6i.2xlarge", vcpus=8, memory_gib=32, max_pods=58),
    )
}

_NODE_TYPE_NAME = re.compile(r"\b([a-z][a-z0-9]*\d[a-z]*\.\d*x?large)\b")


def named_in(text: str) -> set[str]:
    """EC2 instance types a document names (``g5.xlarge``, ``m6i.2xlarge``...)."""
    return set(_NODE_TYPE_NAME.findall(text))


def parse_cpu_m(quantity: str | int | float) -> int:
    """A Kubernetes CPU quantity in millicores."""
    text = str(quantity)
    return int(text[:-1]) if text.endswith("m") else round(float(text) * 1000)


_MEMORY_UNITS: Final = {"Ki": 1024, "Mi": MIB, "Gi": GIB, "Ti": 1024 * GIB, "k": 1000, "M": 10**6, "G": 10**9}


def parse_memory(quantity: str | int) -> int:
    """A Kubernetes memory quantity in bytes."""
    text = str(quantity)
    for suffix, factor in _MEMORY_UNITS.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)
