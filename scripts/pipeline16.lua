-- wrk script: every request is 16 pipelined GETs of the URL's path (as loadgen --pipeline 16).
init = function(args)
  local r = {}
  for i = 1, 16 do
    r[i] = wrk.format(nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
