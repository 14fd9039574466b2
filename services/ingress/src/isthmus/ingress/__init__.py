"""Isthmus ingress: HTTP and polled changes from Dataverse and S/4HANA into Kafka."""
