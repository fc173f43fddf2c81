# den's stand-in for Vagrant's configuration object (`den init --from
# Vagrantfile`; vagrantfile/record.c runs it). The Vagrantfile runs as
# Vagrant would run it, loops, conditions and all, against objects that
# record every setting and call with its line in the Vagrantfile; the
# record goes to ARGV[1] as JSON, and den turns it into an Envfile
# (vagrantfile/convert.c). Nothing here decides what den supports: it
# records everything, and den lists what it cannot convert.
#   ruby recorder.rb VAGRANTFILE OUT.json
require "json"
require "shellwords"

module DenRecord
  FILE = File.expand_path(ARGV[0])
  NOTES = []

  # The Vagrantfile's line the current call came from (0: none).
  def self.line
    loc = caller_locations.find { |l| l.absolute_path == FILE || l.path == FILE }
    loc ? loc.lineno : 0
  end

  def self.note(what)
    NOTES << { "line" => line, "what" => what }
  end

  # A value as JSON can hold it: symbols as strings, hashes with string keys.
  def self.plain(v)
    case v
    when Hash then v.each_with_object({}) { |(k, x), h| h[k.to_s] = plain(x) }
    when Array then v.map { |x| plain(x) }
    when Symbol then v.to_s
    when String, Integer, Float, true, false, nil then v
    when Range then v.to_a.map { |x| plain(x) }
    when Recorder then v.to_h
    else v.to_s
    end
  end

  # Any settings object: `x.key = value` and calls like `vb.customize [...]`.
  class Recorder
    def initialize(kind)
      @kind = kind
      @values = {}
      @calls = []
      @spaces = {}
    end

    def method_missing(name, *args, **opts, &block)
      n = name.to_s
      if n.end_with?("=") && args.length == 1
        @values[n.chomp("=")] = { "value" => DenRecord.plain(args[0]), "line" => DenRecord.line }
      elsif args.empty? && opts.empty? && block.nil?
        # A read: a value set before, or a namespace (`config.winrm.port = 1`).
        return @values[n]["value"] if @values.key?(n)
        @spaces[n] ||= Recorder.new("#{@kind}.#{n}")
      else
        @calls << { "name" => n, "line" => DenRecord.line,
                    "args" => DenRecord.plain(args + (opts.empty? ? [] : [opts])) }
        nil
      end
    end

    def respond_to_missing?(*) = true

    def to_h
      { "kind" => @kind, "values" => @values, "calls" => @calls,
        "spaces" => @spaces.transform_values(&:to_h) }
    end
  end

  # config.vm: the settings den converts have methods of their own.
  class VM < Recorder
    def initialize(owner)
      super("vm")
      @owner = owner
      @networks = []
      @folders = []
      @providers = []
      @provisioners = []
    end

    def network(type, **opts)
      @networks << { "type" => type.to_s, "options" => DenRecord.plain(opts), "line" => DenRecord.line }
    end

    def synced_folder(host, guest, **opts)
      @folders << { "host" => host.to_s, "guest" => guest.to_s, "options" => DenRecord.plain(opts),
                    "line" => DenRecord.line }
    end

    def provider(name, **opts)
      p = Recorder.new("provider #{name}")
      override = Config.new
      line = DenRecord.line
      yield p, override if block_given?
      @providers << { "name" => name.to_s, "line" => line, "options" => DenRecord.plain(opts),
                      "settings" => p.to_h, "override" => override.to_h }
    end

    # provision "shell", inline: ... or provision "name", type: "shell", ...
    def provision(name, **opts)
      opts = DenRecord.plain(opts)
      named = opts.key?("type")
      type = (opts.delete("type") || name).to_s
      step = Recorder.new("provision #{type}")
      line = DenRecord.line
      lines = opts.keys.to_h { |k| [k, line] }
      yield step if block_given?
      # What the block set (`s.inline = ...`) joins what the call gave, with its own line.
      rec = step.to_h
      rec["values"].each do |k, v|
        opts[k] = v["value"]
        lines[k] = v["line"]
      end
      opts["args"] = Shellwords.split(opts["args"]) if type == "shell" && opts["args"].is_a?(String)
      @provisioners << { "type" => type, "name" => (named ? name.to_s : nil), "line" => line,
                         "options" => opts, "lines" => lines, "calls" => rec["calls"],
                         "spaces" => rec["spaces"] }
    end

    def define(name, **opts)
      line = DenRecord.line
      machine = @owner.machine(name.to_s, line, DenRecord.plain(opts))
      yield machine[:config] if block_given?
    end

    def to_h
      super.merge("networks" => @networks, "folders" => @folders, "providers" => @providers,
                  "provisioners" => @provisioners)
    end
  end

  # The `config` a Vagrantfile's block gets: vm, ssh, and whatever else it names.
  class Config
    attr_reader :machines

    def initialize(root = nil)
      @root = root || self
      @vm = VM.new(self)
      @ssh = Recorder.new("ssh")
      @spaces = {}
      @machines = []
    end

    attr_reader :vm, :ssh

    def method_missing(name, *args, &block)
      return super unless args.empty? && block.nil?
      @spaces[name.to_s] ||= Recorder.new(name.to_s)
    end

    def respond_to_missing?(*) = true

    # A `define`d machine (defined again: the same one, as Vagrant merges them).
    def machine(name, line, opts)
      m = @root.machines.find { |x| x[:name] == name }
      unless m
        m = { name: name, line: line, options: {}, config: Config.new(@root) }
        @root.machines << m
      end
      m[:options].merge!(opts)
      m
    end

    def to_h
      { "vm" => @vm.to_h, "ssh" => @ssh.to_h, "spaces" => @spaces.transform_values(&:to_h) }
    end
  end

  CONFIG = Config.new
end

module Vagrant
  VERSION = "2.3.4"

  def self.configure(version)
    DenRecord.note("Vagrant.configure(\"#{version}\"): den reads version 2 only") unless version.to_s == "2"
    yield DenRecord::CONFIG
  end

  def self.require_version(*) = nil

  def self.has_plugin?(name, *)
    DenRecord.note("Vagrant.has_plugin?(\"#{name}\"): den answered false")
    false
  end

  module Util
    module Platform
      def self.windows? = false
      def self.darwin? = false
      def self.linux? = true
    end
  end
end

result = { "notes" => DenRecord::NOTES }
begin
  eval(File.read(DenRecord::FILE), TOPLEVEL_BINDING, DenRecord::FILE, 1)
rescue Exception => e # rubocop:disable Lint/RescueException: a Vagrantfile may raise anything
  loc = e.backtrace_locations&.find { |l| l.absolute_path == DenRecord::FILE || l.path == DenRecord::FILE }
  line = loc ? loc.lineno : (e.is_a?(SyntaxError) && e.message =~ /:(\d+):/ ? $1.to_i : 0)
  result["error"] = { "message" => e.message.lines.first.to_s.strip, "class" => e.class.name, "line" => line }
end
result["global"] = DenRecord::CONFIG.to_h
result["machines"] = DenRecord::CONFIG.machines.map do |m|
  { "name" => m[:name], "line" => m[:line], "options" => m[:options], "config" => m[:config].to_h }
end
File.write(ARGV[1], JSON.generate(result))
