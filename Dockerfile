# Pushpipe's own image: one static binary, every role behind a subcommand.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pushpipe ./cmd/pushpipe

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pushpipe /usr/local/bin/pushpipe
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/pushpipe"]
CMD ["all"]
